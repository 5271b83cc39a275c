export { User, ROLES } from './user.entity';
export type { Role } from './user.entity';
export { ApiToken } from './api-token.entity';
export { bootstrapAdmin } from './bootstrap-admin';
export { createUser } from './manage-users';
export { createApiToken } from './api-tokens';
export { findByEmail, staffEmails } from './users.queries';
export { generatePassword } from './passwords';
export { userForToken } from './api-tokens';
