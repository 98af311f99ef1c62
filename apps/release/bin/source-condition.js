// A module resolve hook that adds the `@slipway/source` export condition, so `@slipway/*`
// packages resolve to their TypeScript sources (see each package.json's "exports").
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('@slipway/source')
    ? context.conditions
    : ['@slipway/source', ...context.conditions];
  return nextResolve(specifier, { ...context, conditions });
}
