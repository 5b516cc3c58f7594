/* The live parts of the maps folium draws: support loaded for the view (clustered by the server),
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
    marker.bindPopup(el("p", properties.name));
    marker.on("popupopen", function () { popupFor(properties.id, marker); });
    return marker;
  }

  var overlays = {};
  var baseLayers = {};

  // Support for the current view, from the server's clusters.
  if (data.assets) {
    var assets = L.layerGroup().addTo(map);
    overlays["Support"] = assets;
    var pending = null;
    var notice = document.getElementById("map-notice");
    var load = function () {
      var b = map.getBounds();
      var params = new URLSearchParams({
        bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(","),
        zoom: String(Math.round(map.getZoom()))
      });
      if (data.assets.category) { params.set("category", data.assets.category); }
      if (data.assets.openNow) { params.set("open_now", "true"); }
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch("/api/assets/clusters?" + params.toString(), { credentials: "same-origin", signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (view) {
          if (!view) { return; }
          assets.clearLayers();
          view.features.forEach(function (feature) {
            var c = feature.geometry.coordinates;
            var latlng = L.latLng(c[1], c[0]);
            var p = feature.properties;
            if (p.count > 1) {
              var cluster = L.marker(latlng, {
                icon: L.divIcon({ className: "cluster-icon", html: el("span", p.count, "mark cluster").outerHTML, iconSize: [34, 34] }),
                title: p.count + " places here: zoom in", keyboard: true
              });
              cluster.on("click keypress", function () { map.setView(latlng, Math.min(map.getZoom() + 2, 18)); });
              assets.addLayer(cluster);
            } else {
              assets.addLayer(assetMarker(latlng, p));
            }
          });
          if (notice) {
            notice.textContent = data.assets.openNow && !view.open_filter_applied
              ? "Zoom in to see only what is open now; all " + view.total + " places in view are shown."
              : "";
          }
        })
        .catch(function () { /* a newer view replaced this request */ });
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
