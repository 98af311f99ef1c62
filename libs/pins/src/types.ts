export type PinFormat = 'pin' | 'helm' | 'kustomize';

/** A pure file edit (release-please's `Updater`): the current content, or undefined for no file, in; the new content out. */
export type Updater = (content: string | undefined) => string;
