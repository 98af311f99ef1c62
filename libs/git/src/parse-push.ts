/** One line of `git push --porcelain`: `<flag>\t<from>:<to>\t<summary> (<reason>)`. */
export interface PushOutcome {
  flag: string;
  to: string;
  summary: string;
  reason: string;
}

export function parsePushPorcelain(stdout: string, ref: string): PushOutcome | undefined {
  for (const line of stdout.split('\n')) {
    const [flag = '', refs = '', rest = ''] = line.split('\t');
    if (refs === '' || refs.slice(refs.lastIndexOf(':') + 1) !== ref) continue;
    const reason = /\(([^)]*)\)\s*$/.exec(rest)?.[1] ?? '';
    return { flag, to: ref, summary: rest, reason };
  }
  return undefined;
}

/** Rejections that mean "the ref is already there": client-side checks and lost races inside receive-pack. */
export function looksLikeExists(outcome: PushOutcome | undefined, stderr: string): boolean {
  const text = `${outcome?.summary ?? ''}\n${stderr}`;
  return /already exists|stale info|failed to update ref|cannot lock ref/i.test(text);
}

export function looksLikeNonFastForward(outcome: PushOutcome | undefined, stderr: string): boolean {
  const text = `${outcome?.summary ?? ''}\n${stderr}`;
  return /non-fast-forward|fetch first|stale info|failed to update ref|cannot lock ref|but expected/i.test(text);
}
