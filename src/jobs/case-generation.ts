import { advancePendingCases, generateCase, type SealingDeps } from '../domain/sealing.js';
import { DEFAULT_SCHEDULES, type Job, type JobResult } from './types.js';

/**
 * Job 1: takes the cases left PENDING one step further (submitted cases without a ruling,
 * commitments to send or still being mined), then writes one new case. Each item fails on its own.
 */
export const caseGenerationJob: Job<{ sealing: SealingDeps }> = {
  name: 'case-generation',
  defaultSchedule: DEFAULT_SCHEDULES['case-generation'],
  async run({ sealing }, { now, signal }) {
    const pending = await advancePendingCases(sealing, now, signal);
    const result: JobResult & { summary: { opened: string[]; waiting: string[]; errors: string[] } } = {
      items: pending.opened.length + pending.waiting.length + pending.errors.length,
      successes: pending.opened.length + pending.waiting.length,
      failures: pending.errors.length,
      summary: { ...pending },
    };
    if (signal.aborted) return result;
    result.items += 1;
    try {
      const created = await generateCase(sealing, now);
      const c = await sealing.db.case.findUnique({ where: { id: created }, select: { status: true } });
      (c?.status === 'OPEN' ? result.summary.opened : result.summary.waiting).push(created);
      result.successes += 1;
    } catch (error) {
      result.failures += 1;
      result.summary.errors.push(`new case: ${error instanceof Error ? error.message : String(error)}`);
      sealing.log.warn({ err: error }, 'writing a new case failed');
    }
    return result;
  },
};
