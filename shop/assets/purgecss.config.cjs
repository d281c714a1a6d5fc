// Trims Oscar's styles.css (Bootstrap 4 + Font Awesome + Oscar) to the selectors the
// storefront uses. Run through build_css.sh, which sets OSCAR_DIR and the content copy.
const oscar = process.env.OSCAR_DIR;
const content = process.env.CONTENT_DIR;

module.exports = {
  content: [`${content}/**/*.html`, `${content}/*.js`],
  css: [`${oscar}/static/oscar/css/styles.css`],
  // Font Awesome 7 names its font through a CSS variable, which PurgeCSS cannot follow.
  fontFace: false,
  keyframes: true,
  safelist: {
    // Classes added at run time (Bootstrap's JS, Oscar's ui.js, message tags, ratings).
    standard: [/^alert/, /^show$/, /^fade$/, /^collapsing$/, /^collapse$/, /^modal/, /^carousel/,
               /^dropdown/, /^active$/, /^disabled$/, /^was-validated$/, /^is-(valid|invalid)$/,
               /^invalid-feedback$/, /^(One|Two|Three|Four|Five)$/, /^star-rating$/, /^instock$/,
               /^outofstock$/, /^available$/, /^unavailable$/, /^tooltip/, /^popover/, /^bs-/,
               /^errorlist$/, /^error$/, /^sr-only/],
    deep: [/bootstrap-datetimepicker-widget/, /tempusdominus/],
    greedy: [/datetimepicker/],
  },
};
