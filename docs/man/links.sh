#!/bin/sh
# docs/man/links.sh - one man page name per public function: for every
# name in the NAME section of an installed page, a one-line page
# ".so man3/family.3" (as c-ares and most libraries do), so that
# man mio_poll_poll finds mio_poll(3). It also points the pages at the
# installed documentation: ".I docs/x.md" lines become "$docdir/x.md".
# Run by make install and make uninstall (Makefile.am), so pages added to
# docs/man get their links with no edit here.
#
#   links.sh install|uninstall MANDIR DOCDIR PAGE...
#
# MANDIR is $(DESTDIR)$(mandir); DOCDIR the documentation directory as the
# pages should name it (without DESTDIR). A name that is itself a page
# never gets a link, and the first page to claim a name keeps it.
set -u
mode=$1 mandir=$2 docdir=$3
shift 3

# The names before "\-" in the NAME section, one per line.
names() {
	sed -n '/^\.SH NAME/,/\\-/p' "$1" | sed '1d; s/\\-.*//' |
		tr ',' '\n' | tr -d ' \t' | grep -v '^$'
}

status=0
for page in "$@"; do
	base=$(basename "$page")
	section=${base##*.}
	dir=$mandir/man$section
	if [ "$mode" = install ]; then
		installed=$dir/$base
		[ -f "$installed" ] || { echo "links.sh: $installed not installed" >&2; status=1; continue; }
		sed "s|^\(\.IR\{0,1\} \)docs/|\1$docdir/|" "$installed" >"$installed.tmp" &&
			mv "$installed.tmp" "$installed" && chmod 644 "$installed" || status=1
	fi
	for name in $(names "$page"); do
		link=$dir/$name.$section
		[ "$name.$section" = "$base" ] && continue
		if [ "$mode" = install ]; then
			[ -e "$link" ] && continue
			echo ".so man$section/$base" >"$link" && chmod 644 "$link" || status=1
		elif [ -f "$link" ] && grep -qx "\.so man$section/$base" "$link"; then
			rm -f "$link"
		fi
	done
done
exit $status
