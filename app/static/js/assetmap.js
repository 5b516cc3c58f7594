/* The live parts of the maps folium draws: support loaded for the view (clustered by the server),
   groups shown by their areas, popups, the layer switcher, and the planner's area profiles.
   Text from the data is only ever set with textContent: nothing is parsed as HTML. */
(function () {
  "use strict";
  // After a search the answer has focus (and is scrolled to), not the box searched from.
  var answer = document.querySelector("[data-focus-after-search]");
  if (answer && (new URLSearchParams(window.location.search)).get("postcode")) {
    answer.focus();
  }
  var dataElement = document.getElementById("page-data");
  if (!dataElement) { return; }
  var data = JSON.parse(dataElement.textContent);
  var map = window[data.mapVar];
  if (!map) { return; }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  // Buttons that pan the map a third of its size, for people who cannot drag (WCAG 2.5.7).
  var PanButtons = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var box = L.DomUtil.create("div", "pan-buttons");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", t("Move the map"));
      [["north", "↑", 0, -1], ["west", "←", -1, 0], ["east", "→", 1, 0], ["south", "↓", 0, 1]].forEach(function (d) {
        var button = L.DomUtil.create("button", "pan-" + d[0], box);
        button.type = "button";
        button.textContent = d[1];
        button.setAttribute("aria-label", t("Pan " + d[0]));
        button.title = t("Pan " + d[0]);
        L.DomEvent.disableClickPropagation(button);
        L.DomEvent.on(button, "click", function (event) {
          L.DomEvent.preventDefault(event);
          var size = map.getSize();
          map.panBy([d[2] * size.x / 3, d[3] * size.y / 3]);
        });
      });
      return box;
    }
  });
  new PanButtons().addTo(map);

  function icon(category, text, extra) {
    var safeCategory = /^[a-z_]+$/.test(category) ? category : "other";
    var span = el("span", text, "mark cat-" + safeCategory + (extra ? " " + extra : ""));
    return L.divIcon({ className: "asset-icon", html: span.outerHTML, iconSize: [28, 28] });
  }

  // The page's language: its words come in page_data.strings (English when missing).
  var lang = document.documentElement.lang || "en";
  function t(text) { return (data.strings && data.strings[text]) || text; }

  function km(metres) {
    return (metres / 1000).toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " " + t("km");
  }

  function popupFor(id, marker) {
    fetch("/api/assets/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (item) {
        if (!item) { return; }
        var box = el("div", null, "popup");
        box.appendChild(el("h3", item.name));
        box.appendChild(el("p", t(item.category_label) + (item.synthetic ? t(" (example, not a real service)") : "")));
        if (item.location_approximate) {
          box.appendChild(el("p", t("Serves an area; no address is published.")));
        } else if (item.address || item.postcode) {
          box.appendChild(el("p", [item.address, item.postcode].filter(Boolean).join(", ")));
        }
        if (item.phone) {
          var phone = el("p", t("Phone") + " ");
          var link = el("a", item.phone);
          link.href = "tel:" + item.phone.replace(/\s+/g, "");
          phone.appendChild(link);
          box.appendChild(phone);
        }
        if (item.website) {
          var site = el("a", t("Website"));
          site.href = item.website;
          site.rel = "noopener";
          var line = el("p");
          line.appendChild(site);
          box.appendChild(line);
        }
        if (item.needs_text) { box.appendChild(el("p", item.needs_text)); }
        if (item.referral_route) { box.appendChild(el("p", t("Referral: ") + item.referral_route)); }
        box.appendChild(el("p", item.hours_text));
        box.appendChild(el("p", item.freshness.charAt(0).toUpperCase() + item.freshness.slice(1) + ".",
          item.stale ? "stale" : null));
        var details = el("a", t("Details and sources"));
        details.href = "/assets/" + encodeURIComponent(item.id);
        var correct = el("a", t("Suggest a correction"));
        correct.href = "/submit?kind=correction&asset_id=" + encodeURIComponent(item.id);
        var last = el("p");
        last.appendChild(details);
        last.appendChild(document.createTextNode(" · "));
        last.appendChild(correct);
        box.appendChild(last);
        marker.setPopupContent(box);
      });
  }

  var RING_FIRST = t("hours not published — ring first");

  function assetMarker(latlng, properties) {
    var unknown = properties.opening === "unknown";
    var name = properties.name + (unknown ? " (" + RING_FIRST + ")" : "");
    var marker = L.marker(latlng, {
      icon: icon(properties.category, (data.marks[properties.category] || "?"), unknown ? "unknown" : ""),
      title: name, alt: name, keyboard: true
    });
    marker.bindPopup(el("p", properties.name));
    marker.on("popupopen", function () { popupFor(properties.id, marker); });
    return marker;
  }

  // The map's own controls (zoom, layers) come before its markers when tabbing: Leaflet puts
  // them last in the map's element, so they move to its start (they are placed by CSS anyway).
  var container = map.getContainer();
  container.insertBefore(map._controlContainer, container.firstChild);

  // Shapes that only decorate (outlines, LSOAs, the caller's place) take clicks, not focus.
  function unfocusable(layer) {
    if (layer._path) { layer._path.setAttribute("tabindex", "-1"); }
    if (layer.eachLayer) { layer.eachLayer(unfocusable); }
  }
  map.eachLayer(unfocusable);
  map.on("layeradd", function (event) { unfocusable(event.layer); });

  var overlays = {};
  var baseLayers = {};

  // Support for the current view, from the server's clusters. Markers are kept across reloads
  // when the same thing is still in view (and always while their popup is open), so opening a
  // popup, which pans the map, never removes the marker it belongs to.
  if (data.assets) {
    var assets = L.layerGroup().addTo(map);
    overlays[t("Support")] = assets;
    var pending = null;
    var asked = "";
    var loads = 0;
    var shown = {};
    var notice = document.getElementById("map-notice");
    var keyOf = function (feature) {
      var p = feature.properties;
      return p.id !== undefined && p.id !== null && p.count === 1
        ? "asset:" + p.id + ":" + (p.opening || "")
        : "cell:" + feature.geometry.coordinates.join(",") + ":" + p.count + ":" + (p.unknown || 0);
    };
    var clusterMarker = function (latlng, p) {
      var title = p.count + t(" places here: zoom in") +
        (p.unknown ? " (" + t("%(n)s with hours not published — ring first").replace("%(n)s", p.unknown) + ")" : "");
      var cluster = L.marker(latlng, {
        icon: L.divIcon({ className: "cluster-icon", html: el("span", p.count, "mark cluster").outerHTML, iconSize: [34, 34] }),
        title: title, alt: title, keyboard: true
      });
      cluster.on("click keypress", function () { map.setView(latlng, Math.min(map.getZoom() + 2, 18)); });
      return cluster;
    };
    var load = function () {
      var b = map.getBounds();
      var params = new URLSearchParams({
        bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(","),
        zoom: String(Math.round(map.getZoom()))
      });
      if (data.assets.category) { params.set("category", data.assets.category); }
      if (data.assets.openNow) { params.set("open_now", "true"); }
      Object.keys(data.assets.needs || {}).forEach(function (name) { params.set(name, data.assets.needs[name]); });
      if (params.toString() === asked) { return; }  // this view is loaded, or on its way
      asked = params.toString();
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch("/api/assets/clusters?" + params.toString(), { credentials: "same-origin", signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (view) {
          if (!view) { asked = ""; return; }
          var next = {};
          var unknown = 0;
          view.features.forEach(function (feature) {
            var key = keyOf(feature);
            var p = feature.properties;
            unknown += p.unknown || (p.opening === "unknown" ? 1 : 0);
            if (shown[key]) { next[key] = shown[key]; delete shown[key]; return; }
            var c = feature.geometry.coordinates;
            var latlng = L.latLng(c[1], c[0]);
            next[key] = p.count > 1 ? clusterMarker(latlng, p) : assetMarker(latlng, p);
            assets.addLayer(next[key]);
          });
          Object.keys(shown).forEach(function (key) {
            var marker = shown[key];
            if (marker.isPopupOpen && marker.isPopupOpen()) { next[key] = marker; return; }
            assets.removeLayer(marker);
          });
          shown = next;
          container.dataset.loads = String(++loads);  // views shown so far (tests wait on it)
          if (notice) {
            notice.textContent = data.assets.openNow
              ? t("Open now: %(n)s in view.").replace("%(n)s", view.total - unknown) +
                (unknown ? " " + t("%(n)s more have no published hours: ring first (marked with a dashed ring).").replace("%(n)s", unknown) : "")
              : "";
          }
        })
        .catch(function (error) {  // an aborted request was replaced by a newer view
          if (error.name !== "AbortError") { asked = ""; }
        });
    };
    // One request per settled view: the first view and a fit to the district right after it
    // (or a quick pan and zoom) would otherwise ask twice.
    var timer = null;
    var soon = function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(load, 60);
    };
    map.on("moveend", soon);
    soon();
  }

  // Mutual aid groups: shaded areas, never a pin on a home.
  if (data.groups) {
    var groups = L.layerGroup().addTo(map);
    overlays[t("Mutual aid groups (areas)")] = groups;
    var groupParams = new URLSearchParams((data.assets && data.assets.needs) || {});
    groupParams.set("category", "mutual_aid_group");
    groupParams.set("format", "geojson");
    groupParams.set("limit", "1000");
    fetch("/api/assets?" + groupParams.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (collection) {
        if (!collection) { return; }
        L.geoJSON(collection, {
          style: { color: "#8a3f74", weight: 1, fillColor: "#cc79a7", fillOpacity: 0.25 },
          onEachFeature: function (feature, layer) {
            layer.bindPopup(el("p", feature.properties.name));
            layer.on("popupopen", function () { popupFor(feature.properties.id, layer); });
          }
        }).addTo(groups);
      });
  }

  // The place asked about, and the support listed for it.
  if (data.place) {
    L.circleMarker([data.place.lat, data.place.lon], { radius: 9, color: "#1b1b1b", weight: 3, fillColor: "#ffdd00", fillOpacity: 1,
      interactive: false }).bindTooltip(data.place.label, { permanent: true, direction: "right" }).addTo(map);
  }
  if (data.points && data.points.length) {
    var listed = L.featureGroup().addTo(map);
    data.points.forEach(function (p) { listed.addLayer(assetMarker([p.lat, p.lon], p)); });
    var around = listed.getBounds();
    if (data.place) { around.extend([data.place.lat, data.place.lon]); }  // in view, not a marker
    map.fitBounds(around.pad(0.15), { maxZoom: 15 });
  }

  // Layers folium drew, and ours, in one switcher.
  (data.baseLayers || []).forEach(function (layer) { if (window[layer.var]) { baseLayers[layer.title] = window[layer.var]; } });
  (data.overlays || []).forEach(function (layer) { if (window[layer.var]) { overlays[layer.title] = window[layer.var]; } });
  L.control.layers(baseLayers, overlays, { collapsed: true }).addTo(map);

  // The planner: one LSOA layer, coloured by the IMD 2019 or the IoD 2025 decile.
  if (data.choropleth) {
    var lsoas = window[data.choropleth.var];
    var colours = data.choropleth.colours;
    var restyle = function (field) {
      lsoas.setStyle(function (feature) {
        var decile = feature.properties[field];
        return { fillColor: decile ? colours[decile - 1] : "#bdbdbd", fillOpacity: 0.65, color: "#ffffff", weight: 0.5 };
      });
    };
    document.querySelectorAll("input[name=decile]").forEach(function (input) {
      input.disabled = false;
      input.addEventListener("change", function () { if (input.checked) { restyle(input.value); } });
    });
  }

  // The planner: click an area for its profile.
  var panel = document.getElementById("profile");
  function row(cells, header) {
    var tr = el("tr");
    cells.forEach(function (cell, i) { tr.appendChild(el(i === 0 && header ? "th" : "td", cell)); });
    if (header) { tr.firstChild.scope = "row"; }
    return tr;
  }
  function table(caption, heads, rows) {
    var t = el("table", null, "numbers");
    t.appendChild(el("caption", caption));
    var head = el("tr");
    heads.forEach(function (h) { var th = el("th", h); th.scope = "col"; head.appendChild(th); });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (r) { body.appendChild(row(r, true)); });
    t.appendChild(body);
    return t;
  }
  function showProfile(layer, code) {
    fetch("/api/areas/" + encodeURIComponent(layer) + "/" + encodeURIComponent(code) + "/profile", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (profile) {
        if (!profile || !panel) { return; }
        panel.textContent = "";
        var title = el("h3", profile.name + " ");
        title.appendChild(el("span", "(" + t(profile.layer) + ")", "kind"));
        panel.appendChild(title);
        panel.appendChild(el("p", profile.population.toLocaleString(lang) + t(" people (mid-2015).")));
        if (layer !== "lsoa") {  // leaflets are for wards, hubs and neighbourhoods
          var leaflet = el("p", null, "leaflet");
          var pdf = el("a", t("Printable leaflet of the support here (PDF, A4)"));
          pdf.href = "/leaflets/" + encodeURIComponent(layer) + "/" + encodeURIComponent(code) + ".pdf?lang=" + encodeURIComponent(lang);
          pdf.type = "application/pdf";
          leaflet.appendChild(pdf);
          panel.appendChild(leaflet);
        }
        panel.appendChild(table(t("People by IMD 2019 decile (1 = most deprived)"), [t("Decile"), t("People")],
          profile.imd_mix.map(function (s) { return [s.decile === null ? t("unknown") : s.decile, s.population.toLocaleString(lang)]; })));
        var labels = data.categoryLabels || {};
        var kinds = Object.keys(labels).filter(function (c) { return profile.assets[c] || profile.nearest[c]; });
        panel.appendChild(table(t("Support in the area"), [t("Kind"), t("Number"), t("per 10,000 people"), t("Nearest to where people live")],
          kinds.map(function (c) {
            var n = profile.nearest[c];
            return [labels[c], profile.assets[c] || 0, profile.assets_per_10k[c] === undefined ? "–" : profile.assets_per_10k[c],
              n ? n.name + ", " + km(n.distance_m) : "–"];
          })));
        var picker = document.getElementById("area");
        if (picker) { picker.value = layer + ":" + code; }
      });
  }
  Object.keys(data.areaLayers || {}).forEach(function (layer) {
    var geo = window[data.areaLayers[layer]];
    if (geo && panel) {
      geo.on("click", function (event) { showProfile(layer, event.layer.feature.properties.code); });
    }
  });

  // The hub desk's printable list.
  var print = document.querySelector("button.print");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
