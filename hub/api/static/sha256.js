// SHA-256 for checking inclusion proofs in the page. WebCrypto's digest exists only on
// https or localhost, and a hub's dashboard is often read over plain http on the site's
// network, so the vendored js-sha256 (vendor/, MIT) stands in when WebCrypto is missing.
"use strict";

(function () {
  // The digest of bytes (a Uint8Array) without WebCrypto, as a Uint8Array.
  function sha256Plain(bytes) {
    return new Uint8Array(window.sha256.arrayBuffer(bytes));
  }

  // The digest of bytes (a Uint8Array), as a Uint8Array; WebCrypto where the page may use it.
  async function sha256(bytes) {
    if (window.crypto && window.crypto.subtle && window.isSecureContext) {
      return new Uint8Array(await window.crypto.subtle.digest("SHA-256", bytes));
    }
    return sha256Plain(bytes);
  }

  window.tpsSha256 = { sha256, sha256Plain };
})();
