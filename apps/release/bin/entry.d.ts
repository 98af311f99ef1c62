export type Entry = { kind: 'bundle'; url: URL } | { kind: 'source'; reason: string };
export declare function chooseEntry(distDir: URL): Entry;
