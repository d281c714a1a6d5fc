/* Store locator and store page: Leaflet map from data- attributes, geolocation on tap only. */
(function () {
    "use strict";

    function readJson(id) {
        var el = id && document.getElementById(id);
        return el ? JSON.parse(el.textContent) : null;
    }

    function initMap() {
        var el = document.getElementById("store-map");
        if (!el || typeof L === "undefined") { return; }
        var markers = readJson(el.dataset.markers) || [];
        if (!Array.isArray(markers)) { markers = [markers]; }
        var origin = readJson(el.dataset.origin);
        var map = L.map(el, { scrollWheelZoom: false, zoomControl: false });
        // The zoom buttons' names in the page's language (Leaflet's are English only).
        L.control.zoom({ zoomInTitle: el.dataset.zoomIn, zoomOutTitle: el.dataset.zoomOut }).addTo(map);
        L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
        // Explicit icon URLs: Leaflet guesses its image folder from leaflet.css, which
        // fails once the static files have hashed names. No shadow: Leaflet ships it at
        // one resolution only, blurred on phone screens (bench/README.md "Lighthouse").
        var icon = L.icon({
            iconUrl: el.dataset.icon,
            iconRetinaUrl: el.dataset.iconRetina,
            iconSize: [25, 41],
            iconAnchor: [12, 41],
            popupAnchor: [1, -34]
        });
        var points = [];
        markers.forEach(function (m) {
            var marker = L.marker([m.lat, m.lng], { title: m.name, alt: m.name, icon: icon }).addTo(map);
            if (m.url) {
                var link = document.createElement("a");
                link.href = m.url;
                link.textContent = m.name;
                marker.bindPopup(link);
            }
            points.push([m.lat, m.lng]);
        });
        if (origin) {
            L.circleMarker([origin.lat, origin.lng], { radius: 8 }).addTo(map);
            points.push([origin.lat, origin.lng]);
        }
        if (points.length > 1) {
            map.fitBounds(points, { padding: [24, 24] });
        } else if (points.length === 1) {
            map.setView(points[0], 15);
        } else {
            map.setView([48.5819, 7.7507], 12);
        }
    }

    /* The shopper's position never stays on the server (README "Privacy"): this browser tab
       keeps it (sessionStorage, rounded, for an hour) and sends it with each request that
       sorts stores by distance, as ?lat=&lng=. */
    var POSITION_KEY = "stores:position";
    var POSITION_MAX_AGE_MS = 60 * 60 * 1000;

    function positionSave(lat, lng) {
        try {
            window.sessionStorage.setItem(POSITION_KEY, JSON.stringify({ lat: lat, lng: lng, at: Date.now() }));
        } catch (e) { /* storage refused: the position is used for this page only */ }
    }

    function positionSaved() {
        try {
            var saved = JSON.parse(window.sessionStorage.getItem(POSITION_KEY));
            if (saved && typeof saved.lat === "string" && typeof saved.lng === "string" &&
                    Date.now() - saved.at >= 0 && Date.now() - saved.at < POSITION_MAX_AGE_MS) {
                return saved;
            }
            window.sessionStorage.removeItem(POSITION_KEY);
        } catch (e) { /* no storage, or not ours */ }
        return null;
    }

    function withPosition(target, position) {
        var url = new URL(target, window.location.href);
        url.searchParams.set("lat", position.lat);
        url.searchParams.set("lng", position.lng);
        return url.toString();
    }

    function initGeolocation() {
        var button = document.querySelector("[data-geolocate]");
        if (!button) { return; }
        // A page that can show distances and was opened without a position (the checkout's
        // store step): ask again with the one this tab kept, once.
        var saved = button.hasAttribute("data-geolocate-saved") && positionSaved();
        if (saved && !new URL(window.location.href).searchParams.has("lat")) {
            window.location.replace(withPosition(button.dataset.geolocate, saved));
            return;
        }
        if (!("geolocation" in navigator)) { return; }
        var status = document.querySelector("[data-geolocate-status]");
        button.hidden = false;
        button.addEventListener("click", function () {
            button.disabled = true;
            navigator.geolocation.getCurrentPosition(function (pos) {
                var position = {
                    lat: pos.coords.latitude.toFixed(5),
                    lng: pos.coords.longitude.toFixed(5)
                };
                positionSave(position.lat, position.lng);
                window.location.assign(withPosition(button.dataset.geolocate, position));
            }, function () {
                button.disabled = false;
                if (status) { status.textContent = button.dataset.geolocateError; }
            }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
        });
    }

    document.addEventListener("DOMContentLoaded", function () {
        initGeolocation();
        initMap();
    });
}());
