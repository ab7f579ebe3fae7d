// Preloaded into every process of a lab by idle-memory.test.ts (NODE_OPTIONS=--require, which the
// supervisor's forks inherit): the modules of Node's own that the process had loaded when told to
// stop (process.moduleLoadList at the first SIGINT or SIGTERM: what it held at rest, not what its
// shutdown loads), and the CommonJS files it had loaded then (require.cache: an ES import of a
// CommonJS package lands there too), are written as it exits to $PORTLAB_LOADED_MODULES/<pid>.json.
// The lab's own handlers of those signals still do the stopping: this one only looks.
const { writeFileSync } = require('node:fs');
const path = require('node:path');

let atRest;
let cjsAtRest;
const look = () => {
  atRest ??= [...process.moduleLoadList];
  cjsAtRest ??= Object.keys(require.cache);
};
process.once('SIGINT', look);
process.once('SIGTERM', look);
process.on('exit', () => {
  const report = {
    argv: process.argv.slice(1),
    modules: atRest ?? process.moduleLoadList,
    cjs: cjsAtRest ?? Object.keys(require.cache),
  };
  writeFileSync(path.join(process.env.PORTLAB_LOADED_MODULES, `${process.pid}.json`), JSON.stringify(report));
});
