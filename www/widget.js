// <rootless-check-widget>: the checker as a custom element for documentation
// pages. One import and one element:
//
//   <script type="module" src="/rootless-check/widget.js"></script>
//   <rootless-check-widget compact sample></rootless-check-widget>
//
// Attributes: `compact` (a shorter report: verdict, why, findings and fixes),
// `sample` (analyse the bundled sample image at once), `heading-level`
// (level of the report's heading, default 3), `report="URL"` (show the JSON
// report at URL, made in CI with `--format json`: fetched from the page's own
// origin only, and checked against the report's schema; the page's CSP needs
// connect-src 'self'). It renders in a shadow root,
// inherits the page's font and colour, and takes the CSS custom properties
// listed in README.md (--rc-accent, --rc-radius, ...). Files dropped on the
// element are analysed locally, in a Web Worker; nothing is uploaded.

import { mountChecker } from './checker.js';

const STYLES = ['report.css', 'widget.css'].map((name) => new URL(name, import.meta.url).href);

class RootlessCheckWidget extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    // <link>s, not inline styles: pages with a strict CSP (style-src 'self') allow them.
    for (const href of STYLES) root.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href }));
    const box = document.createElement('div');
    box.className = this.hasAttribute('compact') ? 'rc-root rc-compact' : 'rc-root';
    box.setAttribute('part', 'checker');
    root.append(box);
    const level = Number.parseInt(this.getAttribute('heading-level') || '3', 10);
    this.checker = mountChecker(box, {
      dropTarget: this,
      compact: this.hasAttribute('compact'),
      headingLevel: level >= 1 && level <= 6 ? level : 3,
      events: this,
    });
    if (this.hasAttribute('report')) this.checker.loadReport(this.getAttribute('report'));
    else if (this.hasAttribute('sample')) this.checker.loadSample();
  }

  /** Analyse a File or Blob (with a `name`), as if it had been dropped. */
  analyzeFile(file) {
    return this.checker.analyzeFile(file);
  }
}

if (!customElements.get('rootless-check-widget')) customElements.define('rootless-check-widget', RootlessCheckWidget);
