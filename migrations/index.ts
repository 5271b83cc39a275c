import { CreateStaffAndAudit1796011105754 } from './1796011105754-CreateStaffAndAudit';
import { CreateSourcesAndItems1796012162044 } from './1796012162044-CreateSourcesAndItems';

/** Every migration, in order. A new migration file is added here too. */
export const allMigrations: Function[] = [CreateStaffAndAudit1796011105754, CreateSourcesAndItems1796012162044];
