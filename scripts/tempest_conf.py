"""Shared by the tempest-*.sh runners: the workspace's tempest.conf, and the cloud it points at.

    conf = TempestConf(workspace)      # reads <workspace>/etc/tempest.conf
    conf.endpoint("compute")           # public URL from an admin token's catalog
    conf.get(url)                      # GET with that token (a 300 answer is returned as a body)
    conf.put("section", "key", "value")
    conf.save()
"""
import configparser
import json
import urllib.error
import urllib.request


class TempestConf:
    def __init__(self, workspace):
        self.path = workspace + "/etc/tempest.conf"
        self.c = configparser.ConfigParser(interpolation=None)
        self.c.read(self.path)
        self._token = None
        self._catalog = None

    def _req(self, method, url, body=None):
        h = {"Accept": "application/json", "Content-Type": "application/json"}
        if self._token:
            h["X-Auth-Token"] = self._token
        r = urllib.request.Request(url, json.dumps(body).encode() if body else None, h, method=method)
        try:
            with urllib.request.urlopen(r, timeout=60) as resp:
                return resp.headers, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code != 300:  # version documents answer 300 Multiple Choices
                raise
            return e.headers, json.loads(e.read())

    def _login(self):
        if self._token:
            return
        a = self.c["auth"]
        domain = {"name": a["admin_domain_name"]}
        hdrs, tok = self._req("POST", self.c["identity"]["uri_v3"] + "/auth/tokens", {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": a["admin_username"], "password": a["admin_password"], "domain": domain}}},
            "scope": {"project": {"name": a["admin_project_name"], "domain": domain}}}})
        self._token = hdrs["X-Subject-Token"]
        self._catalog = tok["token"]["catalog"]

    def endpoint(self, service_type):
        self._login()
        return next(e["url"].rstrip("/") for s in self._catalog if s["type"] == service_type
                    for e in s["endpoints"] if e["interface"] == "public")

    def get(self, url):
        self._login()
        return self._req("GET", url)[1]

    def put(self, section, key, value):
        if not self.c.has_section(section):
            self.c.add_section(section)
        self.c[section][key] = value

    def save(self):
        with open(self.path, "w") as f:
            self.c.write(f)
