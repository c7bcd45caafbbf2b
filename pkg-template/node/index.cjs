'use strict';
// Node entry point (CommonJS). See index.d.ts for the API.
const { analyze, analyzeWithOutputs, version } = require('./core.cjs');

module.exports = { analyze, analyzeWithOutputs, version };
