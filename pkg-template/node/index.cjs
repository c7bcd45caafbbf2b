'use strict';
// Node entry point (CommonJS). See index.d.ts for the API.
const { analyze, version } = require('./core.cjs');

module.exports = { analyze, version };
