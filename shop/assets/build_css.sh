#!/bin/sh
# Rebuilds shop/static/shop/css/bootstrap-oscar.min.css from the installed Oscar's
# styles.css, keeping the selectors used by Oscar's storefront templates (not the
# dashboard's, which loads Oscar's own dashboard.css), ours, ui.js and shop.js.
# Needs Node.js; PurgeCSS and clean-css run from a scratch directory outside the repo.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/solomo-css}
OSCAR_DIR=$("$ROOT/.venv/bin/python" -c "import os, oscar; print(os.path.dirname(oscar.__file__))")
CONTENT_DIR="$WORK/content"
export OSCAR_DIR CONTENT_DIR

mkdir -p "$WORK" && cd "$WORK"
[ -d node_modules/purgecss ] || npm install --no-save purgecss@6 clean-css-cli@5
rm -rf "$CONTENT_DIR" out && mkdir -p "$CONTENT_DIR" out
cp -r "$OSCAR_DIR/templates/oscar" "$CONTENT_DIR/oscar" && rm -rf "$CONTENT_DIR/oscar/dashboard"
cp -r "$ROOT/shop/templates" "$CONTENT_DIR/shop"
cp "$OSCAR_DIR/static/oscar/js/oscar/ui.js" "$ROOT/shop/static/shop/js/shop.js" "$CONTENT_DIR/"

npx purgecss --config "$ROOT/shop/assets/purgecss.config.cjs" --output out/
# Font Awesome's fonts stay where Oscar ships them.
sed 's#url("../webfonts/#url("../../oscar/webfonts/#g' out/styles.css > out/styles.fixed.css
npx cleancss -O1 -o "$ROOT/shop/static/shop/css/bootstrap-oscar.min.css" out/styles.fixed.css
wc -c "$ROOT/shop/static/shop/css/bootstrap-oscar.min.css"
