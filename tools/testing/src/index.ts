export {};
export * from './git-repo.js';
export * from './registry-peer.js';
export * from './token-issuer.js';
export * from './registry-fixtures.js';
export * from './github-double.js';
export * from './verdaccio.js';
export * from './fault-proxy.js';
export * from './tls-front.js';
