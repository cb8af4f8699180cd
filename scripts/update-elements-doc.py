#!/usr/bin/python3
#
# update-elements-doc.py [--check] [BUILD_DIR]: rewrites the generated parts of
# docs/elements.md (pad templates and properties of every element, between
# "<!-- BEGIN generated: NAME -->" and "<!-- END generated: NAME -->")
# from the elements themselves, as gst-inspect-1.0 shows them.
#
# Needs python3-gi and gir1.2-gstreamer-1.0. BUILD_DIR defaults to build/.
# --check writes nothing and fails (exit 1) when docs/elements.md is not
# what the elements say: the meson test 'elements-doc' runs it, so the
# page cannot drift from the code (exit 77, skipped, without python3-gi).

import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
args = [a for a in sys.argv[1:] if a != '--check']
check = '--check' in sys.argv[1:]
build = os.path.abspath(args[0] if args else os.path.join(root, 'build'))
os.environ['GST_PLUGIN_PATH'] = build
os.environ.setdefault('GST_REGISTRY', os.path.join(build, 'docs.registry'))

try:
    import gi  # noqa: E402
except ImportError:
    print('SKIP: python3-gi is not installed', file=sys.stderr)
    sys.exit(77)
gi.require_version('Gst', '1.0')
from gi.repository import GObject, Gst  # noqa: E402

Gst.init(None)

DOC = os.path.join(root, 'docs', 'elements.md')
AVAILABILITY = {
    Gst.PadPresence.ALWAYS: 'always',
    Gst.PadPresence.SOMETIMES: 'sometimes',
    Gst.PadPresence.REQUEST: 'request',
}


def caps_text(caps):
    if caps.is_any():
        return 'ANY'
    parts = []
    for i in range(caps.get_size()):
        parts.append(caps.get_structure(i).to_string())
    return '<br>'.join('`%s`' % p for p in parts)


def value_text(pspec, value):
    if value is None:
        return 'NULL'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if GObject.type_is_a(pspec.value_type, GObject.TYPE_ENUM):
        return value.value_nick
    if isinstance(value, str):
        return '"%s"' % value
    if GObject.type_is_a(pspec.value_type, Gst.Structure.__gtype__):
        return '(counters)'
    if isinstance(value, float):
        return '%g' % value
    if isinstance(value, int):
        return str(value)
    text = Gst.value_serialize(value) if value is not None else None
    return text if text else '—'


def type_text(pspec):
    t = pspec.value_type
    name = GObject.type_name(t)
    if t in (GObject.TYPE_UINT, GObject.TYPE_INT, GObject.TYPE_UINT64,
             GObject.TYPE_INT64, GObject.TYPE_DOUBLE, GObject.TYPE_FLOAT,
             GObject.TYPE_LONG, GObject.TYPE_ULONG):
        short = {'guint': 'uint', 'gint': 'int', 'guint64': 'uint64',
                 'gint64': 'int64', 'gdouble': 'double',
                 'gfloat': 'float'}.get(name, name)
        return '%s, %s–%s' % (short, fmt_num(pspec.minimum),
                              fmt_num(pspec.maximum))
    if t == GObject.TYPE_BOOLEAN:
        return 'boolean'
    if t == GObject.TYPE_STRING:
        return 'string'
    if GObject.type_is_a(t, GObject.TYPE_ENUM):
        nicks = enum_nicks(pspec)
        return 'enum: ' + ', '.join('`%s`' % n for n in nicks) \
            if nicks else 'enum'
    if name == 'GstValueArray':
        return 'array of strings'
    if name == 'GstStructure':
        return 'GstStructure (read-only)'
    return name


def enum_nicks(pspec):
    try:
        values = pspec.enum_class.__enum_values__
        return [values[k].value_nick for k in sorted(values)]
    except AttributeError:
        return []


def fmt_num(n):
    if isinstance(n, float):
        if n >= 1.7e308:
            return 'max'
        return '%g' % n
    if n in (2**31 - 1, 2**32 - 1, 2**63 - 1, 2**64 - 1):
        return {2**31 - 1: 'G_MAXINT', 2**32 - 1: 'G_MAXUINT',
                2**63 - 1: 'G_MAXINT64', 2**64 - 1: 'G_MAXUINT64'}[n]
    return str(n)


def mutability(pspec):
    flags = pspec.flags
    if not flags & GObject.ParamFlags.WRITABLE:
        return 'read-only'
    if flags & Gst.PARAM_MUTABLE_PLAYING:
        return 'any state'
    if flags & Gst.PARAM_MUTABLE_PAUSED:
        return 'up to PAUSED'
    if flags & Gst.PARAM_MUTABLE_READY:
        return 'NULL, READY'
    return 'NULL, READY'


def generate(name):
    factory = Gst.ElementFactory.find(name)
    if factory is None:
        return None
    element = factory.create(None)
    out = []
    out.append('| | |')
    out.append('|---|---|')
    out.append('| klass | %s |' % factory.get_metadata('klass'))
    out.append('| plugin | %s |' % factory.get_plugin_name())
    out.append('| description | %s |' % factory.get_metadata('description'))
    out.append('')
    out.append('**Pads**')
    out.append('')
    out.append('| pad | direction | availability | caps |')
    out.append('|---|---|---|---|')
    for tmpl in sorted(factory.get_static_pad_templates(),
                       key=lambda t: (t.direction != Gst.PadDirection.SINK,
                                      t.name_template)):
        direction = 'sink' if tmpl.direction == Gst.PadDirection.SINK \
            else 'src'
        out.append('| `%s` | %s | %s | %s |' % (
            tmpl.name_template, direction, AVAILABILITY[tmpl.presence],
            caps_text(tmpl.get_caps())))
    out.append('')
    out.append('**Properties**')
    out.append('')
    own = []
    for pspec in GObject.list_properties(element):
        if pspec.owner_type != element.__gtype__:
            continue
        own.append(pspec)
    if own:
        out.append('| property | type | default | changeable | what it does |')
        out.append('|---|---|---|---|---|')
    else:
        out.append('None of its own.')
    for pspec in sorted(own, key=lambda p: p.name):
        default = '—'
        readable = pspec.flags & GObject.ParamFlags.READABLE
        if readable and pspec.value_type != Gst.Structure.__gtype__:
            # a new element holds the defaults
            try:
                default = value_text(pspec, element.get_property(pspec.name))
            except TypeError:
                # GstValueArray and friends: empty arrays by default here
                default = '(empty)'
        blurb = (pspec.blurb or '').replace('|', '\\|')
        out.append('| `%s` | %s | %s | %s | %s |' % (
            pspec.name, type_text(pspec).replace('|', '\\|'), default,
            mutability(pspec), blurb))
    inherited = sorted(set(p.name for p in GObject.list_properties(element))
                       - set(p.name for p in own) - {'name', 'parent'})
    if inherited:
        out.append('')
        out.append('Inherited from its base class: %s.' %
                   ', '.join('`%s`' % n for n in inherited))
    return '\n'.join(out)


def main():
    with open(DOC, encoding='utf-8') as f:
        text = f.read()
    missing = []

    def replace(match):
        name = match.group(1)
        body = generate(name)
        if body is None:
            missing.append(name)
            return match.group(0)
        return '<!-- BEGIN generated: %s -->\n%s\n<!-- END generated: %s -->' \
            % (name, body, name)

    new = re.sub(r'<!-- BEGIN generated: (\S+) -->.*?'
                 r'<!-- END generated: \1 -->', replace, text, flags=re.S)
    if check:
        if new != text:
            import difflib
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(True), new.splitlines(True),
                'docs/elements.md', 'what the elements say'))
            print('docs/elements.md is out of date: run '
                  'scripts/update-elements-doc.py', file=sys.stderr)
            return 1
    else:
        with open(DOC, 'w', encoding='utf-8') as f:
            f.write(new)
    if missing:
        print('not found (not built?): ' + ', '.join(missing),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
