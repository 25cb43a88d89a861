import DataLoader from 'dataloader';
import type { Db } from './db.js';
import type { VoteArchive } from './generated/prisma/client.js';
import { revealedRulings, type RevealedRuling } from './domain/cases.js';

/** Per-request batch loaders, so list fields cost one query per field, not one per row. */
export function createLoaders(db: Db) {
  const archivedVotes = new Map<string, DataLoader<string, VoteArchive | null>>();
  return {
    /** A user's votes on archived cases, by case. */
    archivedVote(userId: string) {
      let loader = archivedVotes.get(userId);
      if (!loader) {
        loader = new DataLoader(async (caseIds) => {
          const rows = await db.voteArchive.findMany({ where: { userId, caseId: { in: [...caseIds] } } });
          const byCase = new Map(rows.map((r) => [r.caseId, r]));
          return caseIds.map((id) => byCase.get(id) ?? null);
        });
        archivedVotes.set(userId, loader);
      }
      return loader;
    },
    revealedRuling: new DataLoader<string, RevealedRuling | null>(async (caseIds) => {
      const rows = await revealedRulings(db, caseIds);
      const byCase = new Map(rows.map((r) => [r.caseId, r]));
      return caseIds.map((id) => byCase.get(id) ?? null);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
