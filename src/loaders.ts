import DataLoader from 'dataloader';
import type { Db } from './db.js';
import { revealedRulings, type RevealedRuling } from './domain/cases.js';

/** Per-request batch loaders, so list fields cost one query per field, not one per row. */
export function createLoaders(db: Db) {
  return {
    revealedRuling: new DataLoader<string, RevealedRuling | null>(async (caseIds) => {
      const rows = await revealedRulings(db, caseIds);
      const byCase = new Map(rows.map((r) => [r.caseId, r]));
      return caseIds.map((id) => byCase.get(id) ?? null);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
