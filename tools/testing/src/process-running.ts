import { readFile } from 'node:fs/promises';

/**
 * Whether the process runs. A killed child nobody has reaped yet (a container without init) is a
 * zombie: it answers signal 0 but is dead, so `/proc/<pid>/stat` decides (Linux).
 */
export async function processRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat);
}
