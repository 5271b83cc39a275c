import { readdirSync, readlinkSync } from 'node:fs';

/** This process's open descriptors that are inbound spool files (unlinked at once, so "… (deleted)"). */
export function openSpoolFiles(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.includes('takedown-inbound-')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
