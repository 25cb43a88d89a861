// Before each section the machine settles: what the previous section left running (autovacuum
// after a bulk write, a server or client process still exiting) would otherwise be timed too.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const IDLE_SHARE = 0.9;
const WINDOW_MS = 1_000;

/** Idle and total CPU ticks of all cores so far (Linux /proc/stat); null elsewhere. */
function cpuTicks(): { idle: number; total: number } | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: fields[3]!, total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * Waits until the CPUs were at least 90 % idle over a whole second, at most `maxMs`; prints
 * how long it waited when it did. Where /proc/stat is missing it returns at once.
 */
export async function untilQuiet(maxMs = 300_000): Promise<void> {
  const started = performance.now();
  for (let before = cpuTicks(); before; ) {
    await sleep(WINDOW_MS);
    const after = cpuTicks()!;
    const idle = (after.idle - before.idle) / Math.max(1, after.total - before.total);
    const waited = performance.now() - started;
    if (idle >= IDLE_SHARE || waited >= maxMs) {
      if (waited > 2 * WINDOW_MS) console.log(`  (waited ${(waited / 1000).toFixed(0)} s for the machine to be quiet${idle < IDLE_SHARE ? '; it never was' : ''})`);
      return;
    }
    before = after;
  }
}
