// `npm run demo`: one release end to end on the embedded defaults. It runs the real slipway
// commands; until they are built it says so instead of faking them.
process.stderr.write(
  'slipway demo: not built yet. The demo runs plan → release → publish → promote → status → rollback → history\n' +
    'on a throwaway workspace, and lands once those commands do. Try `npx slipway --help` meanwhile.\n',
);
process.exitCode = 0;
