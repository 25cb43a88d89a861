import { commitAndOpen, generateCase, ruleOnSubmittedCase, type SealingDeps } from '../domain/sealing.js';
import { DEFAULT_SCHEDULES, type Job, type JobResult } from './types.js';

/**
 * Job 1: finishes cases left PENDING (submitted cases without a ruling, sealed ones whose
 * commitment was not sent), then writes one new case. Each item fails on its own.
 */
export const caseGenerationJob: Job<{ sealing: SealingDeps }> = {
  name: 'case-generation',
  defaultSchedule: DEFAULT_SCHEDULES['case-generation'],
  async run({ sealing }, { now, signal }) {
    const pending = await sealing.db.case.findMany({
      where: { status: 'PENDING', commitmentStatus: 'UNSENT' },
      select: { id: true, commitment: true },
      orderBy: { createdAt: 'asc' },
      take: 100,
    });
    const result: JobResult & { summary: { opened: string[]; errors: string[] } } = {
      items: 0,
      successes: 0,
      failures: 0,
      summary: { opened: [], errors: [] },
    };
    const attempt = async (label: string, work: () => Promise<string | null>) => {
      result.items += 1;
      try {
        const opened = await work();
        if (opened) result.summary.opened.push(opened);
        result.successes += 1;
      } catch (error) {
        result.failures += 1;
        result.summary.errors.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
        sealing.log.warn({ err: error, item: label }, 'case generation item failed');
      }
    };
    for (const c of pending) {
      if (signal.aborted) break;
      await attempt(c.id, async () => {
        const outcome = c.commitment ? await commitAndOpen(sealing, c.id, now) : await ruleOnSubmittedCase(sealing, c.id, now);
        return outcome === 'opened' ? c.id : null;
      });
    }
    if (!signal.aborted) await attempt('new case', () => generateCase(sealing, now));
    return result;
  },
};
