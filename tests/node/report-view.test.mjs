// Text helpers of the page's report view (www/report-view.js), without a browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sentence } from '../../www/report-view.js';

test('the no-new-privileges reason reads as a sentence after "Works under no-new-privileges."', () => {
  assert.equal(sentence('the container starts as root'), 'The container starts as root.');
  assert.equal(sentence('it breaks.'), 'It breaks.');
  assert.equal(sentence(''), '');
});
