// Preloaded into every process of a lab by idle-memory.test.ts (NODE_OPTIONS=--require, which the
// supervisor's forks inherit): the modules of Node's own that the process had loaded when told to
// stop (process.moduleLoadList at the first SIGINT or SIGTERM: what it held at rest, not what its
// shutdown loads) are written as it exits to $PORTLAB_LOADED_MODULES/<pid>.json. The lab's own
// handlers of those signals still do the stopping: this one only looks.
const { writeFileSync } = require('node:fs');
const path = require('node:path');

let atRest;
const look = () => {
  atRest ??= [...process.moduleLoadList];
};
process.once('SIGINT', look);
process.once('SIGTERM', look);
process.on('exit', () => {
  const report = { argv: process.argv.slice(1), modules: atRest ?? process.moduleLoadList };
  writeFileSync(path.join(process.env.PORTLAB_LOADED_MODULES, `${process.pid}.json`), JSON.stringify(report));
});
