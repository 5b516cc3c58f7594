/* The live parts of the maps folium draws: support loaded for the view (from vector tiles),
   groups shown by their areas, popups, the layer switcher, and the planner's area profiles.
   Text from the data is only ever set with textContent: nothing is parsed as HTML. */
(function () {
  "use strict";
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

  function icon(category, text, extra) {
    var safeCategory = /^[a-z_]+$/.test(category) ? category : "other";
    var span = el("span", text, "mark cat-" + safeCategory + (extra ? " " + extra : ""));
    return L.divIcon({ className: "asset-icon", html: span.outerHTML, iconSize: [28, 28] });
  }

  function km(metres) { return (metres / 1000).toFixed(1) + " km"; }

  function popupFor(id, marker) {
    fetch("/api/assets/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (item) {
        if (!item) { return; }
        var box = el("div", null, "popup");
        box.appendChild(el("h3", item.name));
        box.appendChild(el("p", item.category_label + (item.synthetic ? " (example, not a real service)" : "")));
        if (item.location_approximate) {
          box.appendChild(el("p", "Serves an area; no address is published."));
        } else if (item.address || item.postcode) {
          box.appendChild(el("p", [item.address, item.postcode].filter(Boolean).join(", ")));
        }
        if (item.phone) {
          var phone = el("p", "Phone ");
          var link = el("a", item.phone);
          link.href = "tel:" + item.phone.replace(/\s+/g, "");
          phone.appendChild(link);
          box.appendChild(phone);
        }
        if (item.website) {
          var site = el("a", "Website");
          site.href = item.website;
          site.rel = "noopener";
          var line = el("p");
          line.appendChild(site);
          box.appendChild(line);
        }
        if (item.referral) { box.appendChild(el("p", "Referral: " + item.referral)); }
        box.appendChild(el("p", item.hours_text));
        box.appendChild(el("p", item.stale
          ? "Not verified" + (item.last_verified ? " since " + item.last_verified : "") + "."
          : "Checked " + item.last_verified + "."));
        var correct = el("a", "Suggest a correction");
        correct.href = "/submit?kind=correction&asset_id=" + encodeURIComponent(item.id);
        var last = el("p");
        last.appendChild(correct);
        box.appendChild(last);
        marker.setPopupContent(box);
      });
  }

  function assetMarker(latlng, properties) {
    var marker = L.marker(latlng, {
      icon: icon(properties.category, (data.marks[properties.category] || "?")),
      title: properties.name, alt: properties.name, keyboard: true
    });
    marker.assetId = properties.id;
    marker.bindPopup(el("p", properties.name));
    marker.on("popupopen", function () { popupFor(properties.id, marker); });
    return marker;
  }

  var overlays = {};
  var baseLayers = {};

  // Mapbox Vector Tiles, read with pbf (vendored): each layer's point features, with their
  // properties and where they are (longitude, latitude).
  function readValue(pbf) {
    var value = null;
    var end = pbf.readVarint() + pbf.pos;
    while (pbf.pos < end) {
      var tag = pbf.readVarint() >> 3;
      value = tag === 1 ? pbf.readString() : tag === 2 ? pbf.readFloat() : tag === 3 ? pbf.readDouble()
        : tag === 4 ? pbf.readVarint64() : tag === 5 ? pbf.readVarint() : tag === 6 ? pbf.readSVarint()
        : tag === 7 ? pbf.readBoolean() : null;
    }
    return value;
  }
  function readFeature(tag, feature, pbf) {
    if (tag === 1) { feature.id = pbf.readVarint(); }
    else if (tag === 2) { feature.tags = pbf.readPackedVarint(); }
    else if (tag === 3) { feature.type = pbf.readVarint(); }
    else if (tag === 4) { feature.geometry = pbf.readPackedVarint(); }
  }
  function readLayer(tag, layer, pbf) {
    if (tag === 1) { layer.name = pbf.readString(); }
    else if (tag === 5) { layer.extent = pbf.readVarint(); }
    else if (tag === 3) { layer.keys.push(pbf.readString()); }
    else if (tag === 4) { layer.values.push(readValue(pbf)); }
    else if (tag === 2) { layer.features.push(pbf.readMessage(readFeature, { id: null, tags: [], type: 0, geometry: [] })); }
  }
  function tilePoints(buffer, layerName, z, x, y) {
    var layers = [];
    new window.Pbf(new Uint8Array(buffer)).readFields(function (tag, found, pbf) {
      if (tag === 3) { found.push(pbf.readMessage(readLayer, { name: "", extent: 4096, keys: [], values: [], features: [] })); }
    }, layers);
    var points = [];
    layers.filter(function (layer) { return layer.name === layerName; }).forEach(function (layer) {
      layer.features.forEach(function (feature) {
        if (feature.type !== 1 || feature.geometry.length < 3) { return; }
        var properties = {};
        for (var i = 0; i + 1 < feature.tags.length; i += 2) {
          properties[layer.keys[feature.tags[i]]] = layer.values[feature.tags[i + 1]];
        }
        if (feature.id !== null && properties.id === undefined) { properties.id = feature.id; }
        var zigzag = function (v) { return (v >> 1) ^ (-(v & 1)); };  // the first point
        var px = (x + zigzag(feature.geometry[1]) / layer.extent) / Math.pow(2, z);
        var py = (y + zigzag(feature.geometry[2]) / layer.extent) / Math.pow(2, z);
        var lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * py))) * 180 / Math.PI;
        points.push({ latlng: L.latLng(lat, px * 360 - 180), properties: properties });
      });
    });
    return points;
  }

  // Support for the current view, from the asset tiles: cluster counts below zoom 14, each
  // asset from it; only what the visitor may see, filtered as the list is.
  if (data.assets && window.Pbf) {
    var assets = L.layerGroup().addTo(map);
    overlays["Support"] = assets;
    var pending = null;
    var notice = document.getElementById("map-notice");
    var filters = new URLSearchParams();
    if (data.assets.category) { filters.set("category", data.assets.category); }
    if (data.assets.openNow) { filters.set("open_now", "true"); }
    var query = filters.toString() ? "?" + filters.toString() : "";
    var open = null;  // the marker whose popup is open stays while the view's markers change
    var addPoint = function (point) {
      var p = point.properties;
      if (open && p.count === 1 && p.id === open.assetId) { return; }
      if (p.count > 1) {
        var latlng = point.latlng;
        var cluster = L.marker(latlng, {
          icon: L.divIcon({ className: "cluster-icon", html: el("span", p.count, "mark cluster").outerHTML, iconSize: [34, 34] }),
          title: p.count + " places here: zoom in", keyboard: true
        });
        cluster.on("click keypress", function () { map.setView(latlng, Math.min(map.getZoom() + 2, 18)); });
        assets.addLayer(cluster);
      } else {
        assets.addLayer(assetMarker(point.latlng, p));
      }
    };
    var load = function () {
      var z = Math.max(0, Math.min(22, Math.round(map.getZoom())));
      var n = Math.pow(2, z);
      var b = map.getBounds();
      var column = function (lon) { return Math.max(0, Math.min(n - 1, Math.floor((lon + 180) / 360 * n))); };
      var row = function (lat) {
        var r = Math.PI / 180 * Math.max(-85.05, Math.min(85.05, lat));
        return Math.max(0, Math.min(n - 1, Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n)));
      };
      if (pending) { pending.abort(); }
      pending = new AbortController();
      var signal = pending.signal;
      var asked = [];
      for (var x = column(b.getWest()); x <= column(b.getEast()); x++) {
        for (var y = row(b.getNorth()); y <= row(b.getSouth()); y++) {
          asked.push(fetch("/tiles/assets/" + z + "/" + x + "/" + y + ".mvt" + query,
                           { credentials: "same-origin", signal: signal })
            .then(function (response) { return response.ok ? response.arrayBuffer() : null; })
            .then(function (tx, ty) { return function (buffer) { return buffer ? tilePoints(buffer, "assets", z, tx, ty) : []; }; }(x, y)));
        }
      }
      Promise.all(asked).then(function (tiles) {
        if (signal.aborted) { return; }
        open = null;
        assets.eachLayer(function (layer) { if (layer.isPopupOpen && layer.isPopupOpen()) { open = layer; } });
        assets.eachLayer(function (layer) { if (layer !== open) { assets.removeLayer(layer); } });
        tiles.forEach(function (points) { points.forEach(addPoint); });
        if (notice) { notice.textContent = ""; }  // tiles apply open now at every zoom
      }).catch(function () { /* a newer view replaced these requests */ });
    };
    // One set of requests per settled view: the first view and a fit to the district right
    // after it (or a quick pan and zoom) would otherwise ask twice.
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
    overlays["Mutual aid groups (areas)"] = groups;
    fetch("/api/assets?category=mutual_aid_group&format=geojson&limit=1000", { credentials: "same-origin" })
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
    L.circleMarker([data.place.lat, data.place.lon], { radius: 9, color: "#1b1b1b", weight: 3, fillColor: "#ffdd00", fillOpacity: 1 })
      .bindTooltip(data.place.label).addTo(map);
  }
  if (data.points && data.points.length) {
    var listed = L.featureGroup().addTo(map);
    data.points.forEach(function (p) { listed.addLayer(assetMarker([p.lat, p.lon], p)); });
    if (data.place) { listed.addLayer(L.marker([data.place.lat, data.place.lon], { opacity: 0 })); }
    map.fitBounds(listed.getBounds().pad(0.15), { maxZoom: 15 });
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
        title.appendChild(el("span", "(" + profile.layer + ")", "kind"));
        panel.appendChild(title);
        panel.appendChild(el("p", profile.population.toLocaleString("en-GB") + " people (mid-2015)."));
        panel.appendChild(table("People by IMD 2019 decile (1 = most deprived)", ["Decile", "People"],
          profile.imd_mix.map(function (s) { return [s.decile === null ? "unknown" : s.decile, s.population.toLocaleString("en-GB")]; })));
        var labels = data.categoryLabels || {};
        var kinds = Object.keys(labels).filter(function (c) { return profile.assets[c] || profile.nearest[c]; });
        panel.appendChild(table("Support in the area", ["Kind", "Number", "per 10,000 people", "Nearest to where people live"],
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
