import { CreateStaffAndAudit1796011105754 } from './1796011105754-CreateStaffAndAudit';

/** Every migration, in order. A new migration file is added here too. */
export const allMigrations: Function[] = [CreateStaffAndAudit1796011105754];
