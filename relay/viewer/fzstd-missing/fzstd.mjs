/* ds-relay viewer: served as /vendor/fzstd.mjs by a ds-relay built
 * without the npm package fzstd (meson option viewer-zstd, auto: the
 * package was not installed under relay/viewer/node_modules when the
 * build was configured). The viewer then cannot decompress
 * FLAG_COMPRESSED frames and says so on the page (docs/relay.md). */

export const decompress = null;
