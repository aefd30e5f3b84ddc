// The jwt-guard demo SPA. Reads its settings from /config.json (served by spa-server):
// the identity provider (Auth0 tenant or the dev IdP), the SPA's client id, the API
// audience and the API's base URL (Envoy with jwt-guard).
"use strict";

const $ = (id) => document.getElementById(id);
const CLAIM_HEADERS = ["x-jwt-sub", "x-jwt-scope", "x-jwt-permissions", "x-jwt-azp"];
let client;
let config;

function show(id, text) {
  $(id).textContent = text;
}

async function refreshSession() {
  const who = $("who");
  const signedIn = await client.isAuthenticated();
  if (signedIn) {
    const user = await client.getUser();
    who.dataset.state = "signed-in";
    who.textContent = `Signed in as ${user.nickname || user.name} (${user.sub})`;
  } else {
    who.dataset.state = "signed-out";
    who.textContent = "Not signed in";
  }
  $("login").disabled = signedIn;
  $("logout").disabled = !signedIn;
  $("call-api").disabled = false;
  $("call-admin").disabled = false;
}

function showError(where, error) {
  $("result").hidden = false;
  show("request", where);
  show("status", "error");
  $("status").dataset.status = "error";
  show("description", `${error.error || error.name}: ${error.error_description || error.message}`);
}

// Calls the API with the user's access token (none when signed out) and shows the answer:
// status, WWW-Authenticate and error_description of a 401/403, or the claim headers the
// echo upstream received for a 200. CORS makes all of these readable here.
async function callApi(path) {
  let token = null;
  if (await client.isAuthenticated()) {
    try {
      token = await client.getTokenSilently();
    } catch (error) {
      showError(`GET ${path}`, error);
      return;
    }
  }
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let response;
  try {
    response = await fetch(config.api + path, { headers });
  } catch (error) {
    showError(`GET ${path}`, { error: "network_error", error_description: String(error) });
    return;
  }
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch (_) { /* not JSON */ }

  $("result").hidden = false;
  show("request", `GET ${path}${token ? " with the access token" : " without a token"}`);
  show("status", `${response.status} ${response.statusText}`.trim());
  $("status").dataset.status = String(response.status);
  show("www-authenticate", response.headers.get("www-authenticate") || "—");
  show("description", (body && body.error_description) || "—");
  const rows = $("claims").querySelector("tbody");
  rows.replaceChildren();
  const echoed = (body && body.headers) || {};
  for (const name of CLAIM_HEADERS) {
    if (echoed[name] === undefined) continue;
    const row = rows.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = echoed[name];
    row.dataset.header = name;
  }
  show("body", body ? JSON.stringify(body, null, 2) : text);
}

async function main() {
  config = await (await fetch("/config.json")).json();
  show("settings", `IdP ${config.domain} · client ${config.client_id} · audience ${config.audience} · API ${config.api}`);
  client = await auth0.createAuth0Client({
    domain: config.domain,
    clientId: config.client_id,
    authorizationParams: {
      audience: config.audience,
      redirect_uri: window.location.origin + "/",
    },
  });

  const query = new URLSearchParams(window.location.search);
  if (query.has("state") && (query.has("code") || query.has("error"))) {
    try {
      await client.handleRedirectCallback();
    } catch (error) {
      showError("login", error);
    }
    window.history.replaceState({}, document.title, "/");
  }

  $("login").onclick = () => client.loginWithRedirect();
  $("logout").onclick = () => client.logout({ logoutParams: { returnTo: window.location.origin + "/" } });
  $("call-api").onclick = () => callApi("/api/data");
  $("call-admin").onclick = () => callApi("/api/admin/users");
  await refreshSession();
}

main().catch((error) => {
  $("who").dataset.state = "error";
  show("who", `Start-up failed: ${error.message || error}`);
});
