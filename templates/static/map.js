// Maps on the public pages and in the console's notice form, drawn with Leaflet (served from this
// site). The page carries everything: the features in a <script type="application/geo+json">
// data block, the tile URL, attribution, site bounds and styles in data-* attributes. Without
// JavaScript the server's SVG outline stays in the box; this script replaces it with the map.
(function () {
  "use strict";
  if (typeof L === "undefined") return; // Leaflet missing: the outline stays

  function readJSON(text, fallback) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return fallback;
    }
  }

  function featuresOf(box) {
    const block = document.getElementById(box.dataset.features || "");
    const data = block ? readJSON(block.textContent, null) : null;
    return data && Array.isArray(data.features) ? data : { type: "FeatureCollection", features: [] };
  }

  function styler(styles) {
    return function (feature) {
      const properties = (feature && feature.properties) || {};
      const role = styles.roles[properties.role] ? properties.role : "place";
      const style = Object.assign({}, styles.roles[role]);
      if (!style.color) style.color = styles.severities[properties.severity] || styles.severities.info;
      style.className = "notice-shape role-" + role;
      return style;
    };
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text; // user text goes in as text, never as markup
    return node;
  }

  function popupFor(feature, styles, withLink) {
    const properties = feature.properties || {};
    const box = element("div", "map-popup");
    const title = element("strong", null, properties.title || "");
    title.dir = "auto";
    box.appendChild(title);
    const meta = [styles.labels[properties.role], properties.severity && severityLabel(styles, properties.severity)].filter(Boolean).join(" · ");
    box.appendChild(element("div", "map-popup-meta", meta));
    if (withLink && properties.url) {
      const link = element("a", null, "Read the notice");
      link.href = properties.url;
      box.appendChild(link);
    }
    return box;
  }

  // A severity in the page's language (the server sends the labels with the styles).
  function severityLabel(styles, severity) {
    return (styles.severity_labels || {})[severity] || severity;
  }

  // Only what the map shows: closures, diversions, then areas and places by severity.
  function legend(styles, features) {
    const rows = [];
    const roles = features.map(function (feature) { return (feature.properties || {}).role; });
    if (roles.indexOf("closure") >= 0) rows.push([styles.labels.closure, styles.roles.closure.color, "line"]);
    if (roles.indexOf("diversion") >= 0) rows.push([styles.labels.diversion, styles.roles.diversion.color, "dashed"]);
    Object.keys(styles.severities).forEach(function (severity) {
      ["area", "place"].forEach(function (role) {
        const present = features.some(function (feature) {
          const properties = feature.properties || {};
          return properties.role === role && properties.severity === severity;
        });
        if (present) rows.push([styles.labels[role] + ", " + severityLabel(styles, severity), styles.severities[severity], role === "area" ? "area" : "dotted"]);
      });
    });
    const control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      const box = element("div", "map-legend");
      box.appendChild(element("strong", null, styles.labels.legend || "Legend"));
      rows.forEach(function (row) {
        const item = element("div", "map-legend-row");
        const swatch = element("span", "map-legend-swatch map-legend-" + row[2]);
        swatch.style.borderColor = row[1];
        if (row[2] === "area") swatch.style.backgroundColor = row[1];
        item.appendChild(swatch);
        item.appendChild(element("span", null, row[0]));
        box.appendChild(item);
      });
      return box;
    };
    return control;
  }

  // Closures over everything else: a diversion that starts where the closure starts must not hide it.
  function closuresOnTop(group) {
    group.eachLayer(function (shape) {
      if (shape.feature && shape.feature.properties && shape.feature.properties.role === "closure" && shape.bringToFront) {
        shape.bringToFront();
      }
    });
  }

  function baseMap(box) {
    box.replaceChildren(); // the server's outline makes way for the map
    box.classList.add("map-live"); // sized (and shown, in the form) before Leaflet measures it
    const map = L.map(box, { scrollWheelZoom: false });
    const bounds = readJSON(box.dataset.bounds || "", null);
    if (Array.isArray(bounds) && bounds.length === 4) {
      map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]]);
    } else {
      map.setView([52.16, 4.48], 14);
    }
    if (box.dataset.tileUrl) {
      L.tileLayer(box.dataset.tileUrl, { attribution: box.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    }
    return map;
  }

  function fit(map, layer) {
    const bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
  }

  function pointAsCircle(feature, latlng) {
    return L.circleMarker(latlng, { radius: 7 });
  }

  function showMap(box, styles) {
    const map = baseMap(box);
    const overview = box.dataset.map === "overview";
    const data = featuresOf(box);
    const layer = L.geoJSON(data, {
      style: styler(styles),
      pointToLayer: pointAsCircle,
      onEachFeature: function (feature, shape) {
        shape.bindPopup(popupFor(feature, styles, overview));
      },
    }).addTo(map);
    fit(map, layer);
    closuresOnTop(layer);
    legend(styles, data.features).addTo(map);
  }

  // The console's form: draw or edit the closed segment, the diversion and areas; every change is
  // written into the form's geometry field as a GeoJSON FeatureCollection (the form's input event
  // then refreshes the preview, as typing does).
  function editMap(box, styles) {
    const input = document.getElementById(box.dataset.input);
    if (!input || !L.PM) return; // the textarea stays, for pasting GeoJSON by hand
    const map = baseMap(box);
    const drawn = L.featureGroup().addTo(map);
    const style = styler(styles);
    const roleChoice = document.getElementById(box.dataset.roleChoice || "");
    if (roleChoice) roleChoice.hidden = false;

    function lineRole() {
      const checked = roleChoice && roleChoice.querySelector("input:checked");
      return checked ? checked.value : "closure";
    }

    function restyle(shape) {
      const properties = shape.feature.properties;
      properties.severity = document.getElementById("severity") ? document.getElementById("severity").value : "info";
      shape.setStyle(style(shape.feature));
    }

    function write() {
      const features = [];
      drawn.eachLayer(function (shape) {
        const feature = shape.toGeoJSON(6);
        feature.properties = { role: shape.feature.properties.role };
        features.push(feature);
      });
      closuresOnTop(drawn);
      input.value = features.length ? JSON.stringify({ type: "FeatureCollection", features: features }) : "";
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function adopt(shape, role) {
      shape.feature = { type: "Feature", properties: { role: role } };
      restyle(shape);
      shape.on("pm:edit", write);
      drawn.addLayer(shape);
    }

    function load() {
      drawn.clearLayers();
      const data = readJSON(input.value || "", null);
      if (!data) return;
      L.geoJSON(data, { pointToLayer: pointAsCircle }).eachLayer(function (shape) {
        const role = (shape.feature && shape.feature.properties && shape.feature.properties.role) || "closure";
        adopt(shape, role);
      });
      fit(map, drawn);
    }

    // The configured places (streets, buildings), grey and labelled, to draw along: also with no tiles.
    const placesBlock = document.getElementById(box.dataset.places || "");
    const places = placesBlock ? readJSON(placesBlock.textContent, null) : null;
    if (places && Array.isArray(places.features)) {
      const guide = { color: "#57606a", weight: 3, opacity: 0.6, fillOpacity: 0.08, interactive: false, pmIgnore: true };
      L.geoJSON(places, {
        style: function () { return Object.assign({ className: "map-guide" }, guide); },
        pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, Object.assign({ radius: 4 }, guide)); },
        onEachFeature: function (feature, shape) {
          const label = feature.properties && feature.properties.label;
          if (label) shape.bindTooltip(String(label), { permanent: true, direction: "center", className: "map-guide-label" });
        },
        pmIgnore: true,
        interactive: false,
      }).addTo(map);
      if (!input.value) fit(map, L.geoJSON(places));
    }
    map.pm.setGlobalOptions({ layerGroup: drawn });
    map.pm.addControls({
      position: "topleft",
      drawMarker: false,
      drawCircleMarker: false,
      drawCircle: false,
      drawRectangle: false,
      drawText: false,
      drawPolyline: true,
      drawPolygon: true,
      editMode: true,
      dragMode: false,
      cutPolygon: false,
      rotateMode: false,
      removalMode: true,
    });
    map.on("pm:create", function (event) {
      drawn.removeLayer(event.layer); // adopt() adds it back with its role and style
      adopt(event.layer, event.shape === "Polygon" ? "area" : lineRole());
      write();
    });
    map.on("pm:remove", write);
    input.addEventListener("change", load); // GeoJSON pasted or typed by hand
    const severity = document.getElementById("severity");
    if (severity) severity.addEventListener("change", function () { drawn.eachLayer(restyle); });
    load();
    let key = null;
    function showLegend() { // what the tools draw, areas in the colour of the form's severity
      if (key) key.remove();
      key = legend(styles, [
        { properties: { role: "closure" } },
        { properties: { role: "diversion" } },
        { properties: { role: "area", severity: severity ? severity.value : "info" } },
      ]).addTo(map);
    }
    if (severity) severity.addEventListener("change", showLegend);
    showLegend();
  }

  document.querySelectorAll("[data-map]").forEach(function (box) {
    const styles = readJSON(box.dataset.styles || "", null);
    if (!styles) return;
    if (box.dataset.map === "editor") editMap(box, styles);
    else showMap(box, styles);
  });
})();
