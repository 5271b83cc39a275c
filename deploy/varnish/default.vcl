vcl 4.1;

# Takedown Desk behind Varnish (SPEC §16; docs/edge-caching.md). Tested by tests/faults/varnish-edge.test.ts
# with Debian's varnish 7.1 (no extra vmod).
#
#  - Only the public pages are cached (/, /items/…, /feed.xml, /sitemap…, /transparency…, /static/);
#    everything else (staff pages, /api, forms, POSTs) is passed to the app untouched.
#  - A request carrying the staff session or CSRF cookie, or an Authorization header, is passed.
#    Other cookies are dropped on public pages (the app sets none there).
#  - TTL: the app's Cache-Control s-maxage (Varnish prefers s-maxage to max-age by itself).
#  - 451, 410, errors, redirects, and anything marked no-store/no-cache/private: never cached.
#  - Purge: `PURGE` or `BAN` from an address in the `purgers` ACL, with the surrogate keys
#    (space-separated) in `Surrogate-Key` or `xkey`, bans every object whose Surrogate-Key header
#    names one of them. The app's purge worker sends these (PURGE_URLS=http://<varnish>/).

# The app. docker-compose.yml names it "app"; the fault test rewrites these two lines.
backend default {
    .host = "app";
    .port = "3000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# Who may purge: the app's instances. Loopback and private networks (a compose or cluster network).
acl purgers {
    "127.0.0.1";
    "::1";
    "10.0.0.0"/8;
    "172.16.0.0"/12;
    "192.168.0.0"/16;
}

sub vcl_recv {
    if (req.method == "PURGE" || req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        if (!req.http.Surrogate-Key && req.http.xkey) {
            set req.http.Surrogate-Key = req.http.xkey;
        }
        # Keys are printable ASCII without spaces or commas; regex metacharacters are escaped.
        set req.http.X-Purge-Keys = regsuball(req.http.Surrogate-Key, "^\s+|\s+$", "");
        if (req.http.X-Purge-Keys !~ "^[!-~]+( +[!-~]+)*$") {
            return (synth(400, "Surrogate-Key or xkey required"));
        }
        set req.http.X-Purge-Keys = regsuball(req.http.X-Purge-Keys, "([][.*+?^$(){}|\\])", "\\\1");
        set req.http.X-Purge-Keys = regsuball(req.http.X-Purge-Keys, " +", "|");
        ban("obj.http.Surrogate-Key ~ (^|\s)(" + req.http.X-Purge-Keys + ")(\s|$)");
        return (synth(200, "Purged"));
    }

    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url !~ "^/(\?|$|items/|feed\.xml|sitemap[^/]*\.xml|transparency(/|\?|$)|static/)") {
        return (pass);
    }
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(td\.sid|td\.csrf|__Host-td\.csrf)=") {
        return (pass);
    }
    unset req.http.Cookie;
    # /transparency answers HTML or JSON (Vary: Accept): two variants, not one per browser.
    if (req.url ~ "^/transparency") {
        if (req.http.Accept ~ "json" && req.http.Accept !~ "html") {
            set req.http.Accept = "application/json";
        } else {
            set req.http.Accept = "text/html";
        }
    }
    return (hash);
}

sub vcl_backend_response {
    if (beresp.status != 200) {
        # 451 (removed), 410 (withdrawn), 404, errors, redirects: straight through, never kept.
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # A short grace: a page may be served a few seconds past its TTL while it is refetched. A ban
    # removes the object itself, so a purged page is never served in grace.
    set beresp.grace = 10s;
}

sub vcl_deliver {
    unset resp.http.Via;
}
