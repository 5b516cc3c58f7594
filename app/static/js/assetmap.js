/* The live parts of the maps folium draws: support loaded for the view (from vector tiles),
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

  // Mapbox Vector Tiles (github.com/mapbox/vector-tile-spec), read with pbf (vendored from npm):
  // one layer's point features, each with its properties and where it is (latitude, longitude).
  var MVT_VALUES = { 1: "readString", 2: "readFloat", 3: "readDouble", 5: "readVarint", 6: "readSVarint", 7: "readBoolean" };
  function readValue(tag, box, pbf) {
    if (tag === 4) { box.value = pbf.readVarint(true); }  // int64
    else if (MVT_VALUES[tag]) { box.value = pbf[MVT_VALUES[tag]](); }
  }
  function readFeature(tag, feature, pbf) {
    if (tag === 1) { feature.id = pbf.readVarint(); }
    else if (tag === 2) { pbf.readPackedVarint(feature.tags); }
    else if (tag === 3) { feature.type = pbf.readVarint(); }
    else if (tag === 4) { pbf.readPackedVarint(feature.geometry); }
  }
  function readLayer(tag, layer, pbf) {
    if (tag === 1) { layer.name = pbf.readString(); }
    else if (tag === 2) { layer.features.push(pbf.readMessage(readFeature, { id: null, tags: [], type: 0, geometry: [] })); }
    else if (tag === 3) { layer.keys.push(pbf.readString()); }
    else if (tag === 4) { layer.values.push(pbf.readMessage(readValue, { value: null }).value); }
    else if (tag === 5) { layer.extent = pbf.readVarint(); }
  }
  function tilePoints(buffer, layerName, tile) {
    var layers = new window.Pbf.PbfReader(new Uint8Array(buffer)).readFields(function (tag, found, pbf) {
      if (tag === 3) { found.push(pbf.readMessage(readLayer, { name: "", extent: 4096, keys: [], values: [], features: [] })); }
    }, []);
    var zigzag = function (v) { return (v >>> 1) ^ -(v & 1); };
    var points = [];
    layers.filter(function (layer) { return layer.name === layerName; }).forEach(function (layer) {
      layer.features.forEach(function (feature) {
        // a point is one MoveTo: [command 9, x, y] in tile units from the tile's north-west corner
        if (feature.type !== 1 || feature.geometry.length < 3) { return; }
        var properties = {};
        for (var i = 0; i + 1 < feature.tags.length; i += 2) {
          properties[layer.keys[feature.tags[i]]] = layer.values[feature.tags[i + 1]];
        }
        if (feature.id !== null && properties.id === undefined) { properties.id = feature.id; }
        var tx = zigzag(feature.geometry[1]), ty = zigzag(feature.geometry[2]);
        var n = Math.pow(2, tile.z);
        var lon = (tile.x + tx / layer.extent) / n * 360 - 180;
        var lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * (tile.y + ty / layer.extent) / n))) * 180 / Math.PI;
        points.push({ latlng: L.latLng(lat, lon), at: tx + "," + ty, properties: properties });
      });
    });
    return points;
  }

  // The tiles covering a view at the map's zoom (cells of 64 px), or a zoom out while that would
  // be more than MAX_TILES (a big screen): a handful for the whole district, never hundreds.
  var MAX_TILES = 36;
  function tilesFor(bounds, zoom) {
    var z = Math.max(0, Math.min(22, Math.round(zoom)));
    for (;;) {
      var n = Math.pow(2, z);
      var column = function (lon) { return Math.max(0, Math.min(n - 1, Math.floor((lon + 180) / 360 * n))); };
      var row = function (lat) {
        var r = Math.PI / 180 * Math.max(-85.05, Math.min(85.05, lat));
        return Math.max(0, Math.min(n - 1, Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n)));
      };
      var x0 = column(bounds.getWest()), x1 = column(bounds.getEast());
      var y0 = row(bounds.getNorth()), y1 = row(bounds.getSouth());
      if ((x1 - x0 + 1) * (y1 - y0 + 1) <= MAX_TILES || z === 0) {
        var tiles = [];
        for (var y = y0; y <= y1; y++) {
          for (var x = x0; x <= x1; x++) { tiles.push({ z: z, x: x, y: y }); }
        }
        return tiles;
      }
      z -= 1;
    }
  }

  // Support for the current view, from the asset tiles (GET /tiles/assets/{z}/{x}/{y}.mvt):
  // cluster counts below zoom 14, each asset from it; only what the visitor may see, with the
  // page's filters. Markers are kept across reloads when the same thing is still in view (and
  // always while their popup is open), so opening a popup, which pans the map, never removes
  // the marker it belongs to.
  if (data.assets && window.Pbf) {
    var assets = L.layerGroup().addTo(map);
    overlays[t("Support")] = assets;
    var pending = null;
    var asked = "";
    var wanted = null;  // the view the map rests at (null while it moves)
    var loads = 0;
    var shown = {};
    var recent = {};  // tiles by URL, reused for a minute (as their Cache-Control says)
    var notice = document.getElementById("map-notice");
    var filters = new URLSearchParams();
    if (data.assets.category) { filters.set("category", data.assets.category); }
    if (data.assets.openNow) { filters.set("open_now", "true"); }
    Object.keys(data.assets.needs || {}).forEach(function (name) { filters.set(name, data.assets.needs[name]); });
    var query = filters.toString() ? "?" + filters.toString() : "";
    var keyOf = function (tile, point) {
      var p = point.properties;
      return p.id !== undefined && p.id !== null && p.count === 1
        ? "asset:" + p.id + ":" + (p.opening || "")
        : "cell:" + [tile.z, tile.x, tile.y, point.at, p.count, p.unknown || 0].join(":");
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
    var show = function (tiles, bounds) {
      var next = {};
      var total = 0;
      var unknown = 0;
      tiles.forEach(function (tile) {
        tile.points.forEach(function (point) {
          var p = point.properties;
          if (p.count === 1 && p.opening === undefined && p.unknown !== undefined) {
            p.opening = p.unknown ? "unknown" : "open";  // a cell of one says which it is
          }
          var key = keyOf(tile, point);
          if (next[key]) { return; }  // on the edge of two tiles
          if (bounds.contains(point.latlng)) {
            total += p.count;
            unknown += p.unknown || (p.opening === "unknown" ? 1 : 0);
          }
          if (shown[key]) { next[key] = shown[key]; delete shown[key]; return; }
          next[key] = p.count > 1 || p.id === undefined ? clusterMarker(point.latlng, p) : assetMarker(point.latlng, p);
          assets.addLayer(next[key]);
        });
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
          ? t("Open now: %(n)s in view.").replace("%(n)s", total - unknown) +
            (unknown ? " " + t("%(n)s more have no published hours: ring first (marked with a dashed ring).").replace("%(n)s", unknown) : "")
          : "";
      }
    };
    var load = function () {
      var bounds = map.getBounds();
      var tiles = tilesFor(bounds, map.getZoom());
      var key = tiles[0].z + ":" + [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map(function (v) { return v.toFixed(5); }).join(",");
      wanted = key;
      if (key === asked) { return; }  // this view is shown, or on its way
      asked = key;
      if (pending) { pending.abort(); }  // the view asked before is not wanted now
      pending = new AbortController();
      var signal = pending.signal;
      var now = Date.now();
      Promise.all(tiles.map(function (tile) {
        tile.url = "/tiles/assets/" + tile.z + "/" + tile.x + "/" + tile.y + ".mvt" + query;
        var known = recent[tile.url];
        if (known && now - known.at < 60000) { return known; }
        // same-origin credentials: a signed-in planner's tiles hold what their key may see
        return fetch(tile.url, { credentials: "same-origin", signal: signal })
          .then(function (response) {
            if (!response.ok) { throw new Error(tile.url + ": " + response.status); }
            return response.arrayBuffer();
          })
          .then(function (buffer) {
            tile.at = Date.now();
            tile.points = tilePoints(buffer, "assets", tile);
            recent[tile.url] = tile;
            return tile;
          });
      })).then(function (done) {
        if (key !== wanted) {  // the map moved on while this view was on its way
          if (asked === key) { asked = ""; }
          return;
        }
        var fresh = {};
        Object.keys(recent).forEach(function (url) { if (Date.now() - recent[url].at < 60000) { fresh[url] = recent[url]; } });
        recent = fresh;
        show(done, bounds);
      }).catch(function () {  // aborted for a newer view, or failed: asked again on the next move
        if (asked === key) { asked = ""; }
      });
    };
    // One set of requests per settled view: the first view and a fit to the district right
    // after it (or a quick pan and zoom) would otherwise ask twice. Once the map moves, a view
    // still on its way is drawn only if the map comes to rest there again, never late over
    // another.
    var timer = null;
    var soon = function () {
      if (timer) { clearTimeout(timer); }
      wanted = null;
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
