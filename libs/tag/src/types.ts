export type Scheme = 'per-service' | 'single' | 'staging-line';

export type TagKind = 'release' | 'prerelease' | 'checkpoint' | 'staging' | 'sha';

/** What a release publishes: an image (default) or an npm package (`kind: "npm"` services). */
export type Artifact = 'image' | 'npm';

/**
 * The services of services.json, as far as tags care. `ServicesFile['services']` fits.
 * `tagPrefix` (per-service scheme) is the text before the version: `<service>/` by default, any
 * path ending in `/` (`instrumentation/net/http/otelhttp/`, then `v` and the version), or for
 * `kind: "npm"` services a changesets-style `<package>@` (`@acme/cli@`, then the bare version).
 */
export type ServiceMap = Readonly<Record<string, { readonly kind?: Artifact | undefined; readonly tagPrefix?: string | undefined }>>;

export type ClassifyOptions =
  | { readonly scheme: 'per-service'; readonly services: ServiceMap }
  | { readonly scheme: 'single' | 'staging-line'; readonly services?: ServiceMap | undefined };

/** Everything a tag means. `formatTag(classifyTag(t, o)) === t`. */
export interface TagInfo {
  /** The tag exactly as given. */
  readonly tag: string;
  readonly scheme: Scheme;
  readonly kind: TagKind;
  /** The service a `per-service` tag names; `null` in the other schemes and for `sha-` tags. */
  readonly service: string | null;
  /** `npm` only for per-service tags of `kind: "npm"` services. */
  readonly artifact: Artifact;
  /** The service's tag prefix the tag starts with (`api/`, `a/b/`, `@acme/cli@`); `''` outside per-service. */
  readonly prefix: string;
  /**
   * The tag without its prefix (`v1.2.3`, `v1.4`, `0.1.2-staging.2`, `sha-1a2b3c4`; `1.2.3` for a
   * changesets-style `@acme/cli@1.2.3`): for image artifacts, the exact image tag this tag publishes.
   */
  readonly name: string;
  /**
   * The version without "v": semver `MAJOR.MINOR.PATCH[-pre]`, except that `single` tags keep a
   * fourth REVISION component (`v1.4.0.1` → `1.4.0.1`) and two-component tags gain `.0`
   * (`v1.4` → `1.4.0`). `null` for checkpoints and `sha-` tags.
   */
  readonly version: string | null;
  /**
   * Whether the tag's artifact is meant to be deployed. `true` for releases and prereleases;
   * for `staging` tags it means "deployable to the staging line only" — production takes the
   * `X.Y.Z` promoted from it, never the staging tag. `false` for checkpoints and `sha-` tags.
   */
  readonly deploy: boolean;
  /** Semver prerelease (and GitHub release marked prerelease): `prerelease` and `staging` kinds. */
  readonly prerelease: boolean;
}

/** The JSON of `slipway tag inspect` (CONTRACT §3), key for key. */
export interface TagInspection {
  readonly tag: string;
  readonly kind: TagKind;
  readonly service: string | null;
  readonly version: string | null;
  readonly deploy: boolean;
  readonly prerelease: boolean;
}
