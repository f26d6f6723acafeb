// The portal page: embeds one shipped dashboard with Superset's embedded SDK.
// The guest token comes from this portal's server, which decides what the
// logged-in viewer may see; the page only says which dashboard it shows.
"use strict";

async function fetchJson(url, options) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("not logged in");
  }
  if (!response.ok) {
    throw new Error(`${url} answered ${response.status}`);
  }
  return response.json();
}

function guestTokenFetcher(dashboardUuid) {
  return async () => {
    const body = await fetchJson("/api/guest-token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ dashboard: dashboardUuid }),
    });
    return body.token;
  };
}

function showNavigation(session, current) {
  const nav = document.getElementById("dashboards");
  for (const dashboard of session.dashboards) {
    const link = document.createElement("a");
    link.href = `/?dashboard=${encodeURIComponent(dashboard.uuid)}`;
    link.textContent = dashboard.title;
    if (dashboard.uuid === current.uuid) {
      link.setAttribute("aria-current", "page");
    }
    nav.appendChild(link);
  }
  document.getElementById("viewer").textContent = `Signed in as ${session.user}`;
}

// The frame grows with the dashboard, so the page scrolls as one and every
// chart can come into view (Superset draws charts only once they are visible).
function followHeight(embedded, mount) {
  const resize = async () => {
    const frame = mount.querySelector("iframe");
    const size = await embedded.getScrollSize();
    if (frame && size.height > frame.clientHeight) {
      frame.style.height = `${size.height}px`;
    }
  };
  window.setInterval(() => resize().catch(() => {}), 1000);
}

async function main() {
  const mount = document.getElementById("dashboard");
  const status = document.getElementById("status");
  try {
    const session = await fetchJson("/api/session");
    const wanted = new URLSearchParams(window.location.search).get("dashboard");
    const current =
      session.dashboards.find((d) => d.uuid === wanted) || session.dashboards[0];
    showNavigation(session, current);
    document.title = `${current.title} - Brokerage portal`;
    const embedded = await window.supersetEmbeddedSdk.embedDashboard({
      id: current.embedded_id,
      supersetDomain: session.superset_url,
      mountPoint: mount,
      fetchGuestToken: guestTokenFetcher(current.uuid),
      dashboardUiConfig: { hideTitle: false, filters: { expanded: false } },
      iframeTitle: current.title,
      referrerPolicy: "strict-origin-when-cross-origin",
    });
    mount.dataset.state = "embedded";
    status.textContent = "";
    followHeight(embedded, mount);
  } catch (error) {
    mount.dataset.state = "failed";
    status.textContent = `The dashboard could not be loaded: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", main);
