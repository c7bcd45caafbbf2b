// The page: the checker in <main>, taking files dropped anywhere on the page.
import { version } from './generated/pkg/index.js';
import { mountChecker } from './checker.js';

const main = document.getElementById('checker');
const checker = mountChecker(main, {
  dropTarget: document,
  dropText: 'Drop a container image archive anywhere on this page',
  headingLevel: 2,
  events: document,
});
document.getElementById('version').textContent = `rootless-check ${version()}`;

// While a file is dragged over the page, show where it would go.
let depth = 0;
document.addEventListener('dragenter', (e) => {
  if (e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files') && depth++ === 0) {
    document.body.classList.add('dragging');
  }
});
const stop = () => {
  depth = 0;
  document.body.classList.remove('dragging');
};
document.addEventListener('dragleave', () => {
  if (depth > 0 && --depth === 0) stop();
});
document.addEventListener('drop', stop);

// For scripts and tests: the page's checker (analyzeFile, loadSample, cancel).
window.rootlessCheck = checker;
document.documentElement.dataset.ready = 'true';
