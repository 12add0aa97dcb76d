"""The Debian package (`make deb`) and `make install`.

The .deb is built once per module with `make -C <repo> deb` (or taken from
SPEX_DEB), inspected with dpkg-deb, unpacked into a temporary root, and its
binaries and man pages are run from there. `make install DESTDIR=... PREFIX=/usr`
must lay out the same files. Nothing outside temporary directories is touched.
"""

import glob
import gzip
import json
import os
import re
import shutil
import stat
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Policy changes the deb makes to the installed tree: compressed man pages
# and long docs, and two files only a Debian package has.
DEB_ONLY = {"usr/share/doc/spex/copyright", "usr/share/doc/spex/changelog.gz"}

# The four libraries spex links, as sonames (their runtime packages must be
# in Depends), and the package-name shapes Debian gives them.
LIBS = {
    "libprotobuf-c.so": r"libprotobuf-c\d",
    "libevent": r"libevent-2\.1-\d+(t64)?",
    "libcgroup.so": r"libcgroup\d",
    "libcjson.so": r"libcjson\d",
}


def run(cmd, **kw):
    kw.setdefault("timeout", 120)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%r failed (%d):\n%s\n%s" % (cmd, r.returncode, r.stdout,
                                                          r.stderr)
    return r


def make(*args, **kw):
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR", "PREFIX", "SYSCONFDIR"):
        env.pop(var, None)
    return run(["make", "--no-print-directory", "-C", REPO] + list(args), env=env, **kw)


def version():
    with open(os.path.join(REPO, "VERSION")) as f:
        return f.read().strip()


def repo_man_pages():
    return sorted(os.path.basename(p) for p in
                  glob.glob(os.path.join(REPO, "docs", "*.[18]")))


@pytest.fixture(scope="module")
def deb():
    path = os.environ.get("SPEX_DEB")
    if not path:
        make("deb", timeout=300)
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        path = os.path.join(REPO, "build", "spex_%s_%s.deb" % (version(), arch))
    assert os.path.isfile(path), path
    return path


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("debroot"))
    run(["dpkg-deb", "-x", deb, d])
    return d


@pytest.fixture(scope="module")
def control_dir(deb, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("debian"))
    run(["dpkg-deb", "-e", deb, d])
    return d


def tree(top):
    """{relative path: ('f', mode) | ('l', target)} for files and symlinks."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, top)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(p))
            else:
                out[rel] = ("f", stat.S_IMODE(st.st_mode))
    return out


def test_control_fields(deb):
    fields = {}
    for line in run(["dpkg-deb", "-f", deb]).stdout.splitlines():
        m = re.match(r"^([A-Za-z-]+): ?(.*)$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    assert fields["Package"] == "spex"
    assert fields["Version"] == version()
    assert fields["Architecture"] == run(["dpkg", "--print-architecture"]).stdout.strip()
    assert re.match(r"^.+ <[^@ ]+@[^@ ]+>$", fields["Maintainer"]), fields["Maintainer"]
    assert fields["Section"] in ("admin", "net")
    assert fields["Priority"] == "optional"
    assert int(fields["Installed-Size"]) > 0
    assert fields["Description"].strip(), fields

    depends = [d.strip().split(" ")[0] for d in fields["Depends"].split(",")]
    assert "libc6" in depends, depends
    for soname, shape in LIBS.items():
        assert [d for d in depends if re.fullmatch(shape, d)], (soname, depends)


def test_depends_are_the_packages_of_the_linked_libraries(deb, root):
    """Each library the executor links resolves (dpkg -S) to a package in Depends."""
    depends = {d.strip().split(" ")[0] for d in run(["dpkg-deb", "-f", deb, "Depends"])
               .stdout.split(",")}
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        run(["readelf", "-d", os.path.join(root, "usr/bin/spex-executor")])
                        .stdout)
    ldd = run(["ldd", os.path.join(REPO, "build", "spex-executor")]).stdout
    for soname in LIBS:
        names = [n for n in needed if n.startswith(soname)]
        assert names, "spex-executor does not link %s: %r" % (soname, needed)
        m = re.search(r"^\s*%s => (\S+)" % re.escape(names[0]), ldd, re.M)
        assert m, (names[0], ldd)
        # /lib and /usr/lib are one on merged-/usr systems: match by file name.
        real = os.path.basename(os.path.realpath(m.group(1)))
        owner = run(["dpkg", "-S", "*/" + real]).stdout.split(":")[0]
        assert owner in depends, "%s comes from %s, not in Depends %r" % (names[0], owner,
                                                                          depends)


def test_contents(deb):
    listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    entries = {}
    for line in listing:
        parts = line.split(None, 5)
        path = parts[5].split(" -> ")[0]
        entries[path] = (parts[0], parts[1], parts[5])
    for mode, owner, _ in entries.values():
        assert owner == "root/root", listing
    for p in ("./usr/bin/spex-executor", "./usr/bin/spex"):
        assert entries[p][0] == "-rwxr-xr-x", entries[p]
    link = entries["./usr/libexec/spex/mesos-executor"]
    assert link[0].startswith("l") and link[2].endswith("-> ../../bin/spex-executor"), link
    assert entries["./etc/spex/spex.json"][0] == "-rw-r--r--"
    for p in ("./usr/share/doc/spex/copyright", "./usr/share/doc/spex/changelog.gz",
              "./usr/share/doc/spex/README.md.gz"):
        assert p in entries, p
    mans = repo_man_pages()
    assert "spex-executor.8" in mans
    for name in mans:
        p = "./usr/share/man/man%s/%s.gz" % (name[-1], name)
        assert entries.get(p, ("",))[0] == "-rw-r--r--", (p, sorted(entries))
    assert not [p for p in entries if p.startswith("./usr/local")]


def test_control_files(control_dir, root):
    with open(os.path.join(control_dir, "conffiles")) as f:
        assert f.read().split() == ["/etc/spex/spex.json"]
    with open(os.path.join(control_dir, "md5sums")) as f:
        sums = dict(reversed(line.split(None, 1)) for line in f.read().splitlines())
    files = {p for p, (kind, _) in tree(root).items() if kind == "f"}
    assert {p.strip() for p in sums} == files
    r = run(["md5sum", "--check", "--quiet", os.path.join(control_dir, "md5sums")], cwd=root)
    assert r.stdout == "", r.stdout


def test_binaries_run_and_are_stripped(root):
    want = {
        "usr/bin/spex-executor": "spex-executor %s" % version(),
        "usr/bin/spex": "spex %s" % version(),
        "usr/libexec/spex/mesos-executor": "spex-executor %s" % version(),
    }
    for rel, expected in want.items():
        r = run([os.path.join(root, rel), "--version"], env={"PATH": "/usr/bin:/bin"},
                timeout=10)
        assert r.stdout.strip() == expected, (rel, r.stdout, r.stderr)
    for rel in ("usr/bin/spex-executor", "usr/bin/spex"):
        sections = run(["readelf", "-S", "-W", os.path.join(root, rel)]).stdout
        assert ".text" in sections
        assert ".debug_info" not in sections and ".symtab" not in sections, rel


def test_man_pages_render_without_warnings(root):
    pages = sorted(glob.glob(os.path.join(root, "usr/share/man/man*/*.gz")))
    names = [os.path.basename(p)[:-3] for p in pages]
    assert "spex-executor.8" in names, names
    assert sorted(names) == repo_man_pages()
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    for page in pages:
        r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                           env=env, timeout=30)
        assert r.returncode == 0, (page, r.stderr)
        assert r.stderr == "", (page, r.stderr)
        name = os.path.basename(page).split(".")[0]
        assert re.search(r"^NAME\n\s+%s " % re.escape(name), r.stdout, re.M), r.stdout[:400]
        assert len(r.stdout.splitlines()) >= 8, (page, r.stdout)
        assert max(len(line) for line in r.stdout.splitlines()) <= 80, page
        with gzip.open(page, "rb") as f:
            src = f.read()
        g = subprocess.run(["groff", "-man", "-ww", "-z"], input=src, capture_output=True,
                           timeout=30)
        assert g.returncode == 0 and g.stderr == b"", (page, g.stderr)


def test_conffile_is_json(root):
    with open(os.path.join(root, "etc/spex/spex.json")) as f:
        assert isinstance(json.load(f), dict)


def test_copyright_is_machine_readable_apache(root):
    with open(os.path.join(root, "usr/share/doc/spex/copyright")) as f:
        text = f.read()
    assert text.startswith(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
    assert re.search(r"^Files: \*$", text, re.M)
    assert re.search(r"^License: Apache-2.0$", text, re.M)
    with open(os.path.join(REPO, "LICENSE")) as f:
        assert "Apache License" in f.read(2000)
    with gzip.open(os.path.join(root, "usr/share/doc/spex/changelog.gz"), "rt") as f:
        first = f.readline()
    assert first.startswith("spex (%s) " % version()), first


def test_lintian_no_errors(deb):
    if not shutil.which("lintian"):
        pytest.skip("lintian is not installed (make deps installs it)")
    r = subprocess.run(["lintian", "--fail-on", "error", deb], capture_output=True, text=True,
                       timeout=120)
    errors = [ln for ln in r.stdout.splitlines() if ln.startswith("E:")]
    assert errors == [] and r.returncode == 0, r.stdout + r.stderr
    print(r.stdout)


def test_make_install_lays_out_the_same_files(root, tmp_path):
    dest = str(tmp_path / "dest")
    make("install", "DESTDIR=" + dest, "PREFIX=/usr")
    installed = tree(dest)
    packaged = {}
    for rel, what in tree(root).items():
        if rel in DEB_ONLY:
            continue
        if rel.endswith(".gz") and (rel.startswith("usr/share/man/") or
                                    rel.startswith("usr/share/doc/spex/")):
            rel = rel[:-3]
        packaged[rel] = what
    assert sorted(installed) == sorted(packaged)
    for rel, what in installed.items():
        if what[0] == "l":
            assert packaged[rel] == what, rel
        else:
            assert packaged[rel][0] == "f" and what[1] == packaged[rel][1], (rel, what,
                                                                            packaged[rel])
    r = subprocess.run([os.path.join(dest, "usr/libexec/spex/mesos-executor"), "--version"],
                       capture_output=True, text=True, timeout=10)
    assert r.stdout.strip() == "spex-executor %s" % version(), r


def test_make_install_keeps_an_existing_config_and_uninstall_leaves_it(tmp_path):
    dest = str(tmp_path / "dest")
    conf = os.path.join(dest, "etc/spex/spex.json")
    make("install", "DESTDIR=" + dest)  # PREFIX=/usr/local: the config where spex reads it
    assert os.path.isfile(conf)
    assert os.path.islink(os.path.join(dest, "usr/local/libexec/spex/mesos-executor"))
    with open(conf, "w") as f:
        f.write('{"edited": true}\n')
    r = make("install", "DESTDIR=" + dest)
    assert "keeping the existing" in r.stdout, r.stdout
    with open(conf) as f:
        assert json.load(f) == {"edited": True}

    make("uninstall", "DESTDIR=" + dest)
    left = sorted(tree(dest))
    assert left == ["etc/spex/spex.json"], left
