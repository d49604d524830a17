#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Builds the scratch tree the lsh corpus test runs commands in: files of
# known names, sizes (sparse, so big sizes cost no disk), ages,
# permissions and contents. Run inside an empty directory.
set -eu
now=$(date +%s)
age() { # age DAYS FILE...: set mtime and atime DAYS days ago
	d=$1; shift
	t=$(date -d "@$((now - d * 86400 - 3600))" +%Y%m%d%H%M.%S)
	touch -t "$t" "$@"
}
mkdir -p src/lib docs logs media/music media/photos build A/D A/B nasa octave \
	httpdocs/css parent_directory/child mydir/sub jcho path randfiles \
	polkadots emptydir emptydir2 "dir with space" .hidden_dir working \
	project/.git
printf 'int main(void)\n{\n\treturn 0;\n}\n' > src/main.c
printf '#include "util.h"\nint util(void) { return 1; } /* hogehoge */\n' > src/lib/util.c
printf 'int util(void);\n' > src/lib/util.h
printf 'hogehoge\n' > src/btree_node.c
printf 'class A { String s; StringBuffer b; }\n' > src/A.java
printf 'class B { string t; }\n' > src/lib/B.java
printf 'class C { int x; }\n' > C.java
printf 'def some_function():\n    return 1\n\nimport antigravity\n' > src/tool.py
printf 'import os\nsome_function()\n' > setup.py
printf '<?php echo 1; ?>\n<?php echo 2; ?>\n' > httpdocs/index.php
printf '<?php echo 3; ?>\n' > httpdocs/lib.php
printf 'puts 1\nputs 2\nputs 3\n' > src/app.rb
printf 'puts 4\n' > build/gen.rb
printf '<html></html>\n' > httpdocs/index.html
printf '<html>a</html>\n' > httpdocs/about.htm
printf 'a.html\n' > httpdocs/a_page.html
printf 'body { color: red; }\n' > httpdocs/css/site.css
printf '<x/>\n' > docs/data.xml
printf '{"a": 1}\n' > docs/data.json
printf '# Notes\nneedle here\nno match\nneedle again\n' > docs/notes.txt
printf 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\n' > myfile.txt
printf 'needle in a haystack\n' > todo.txt
printf 'alpha\nbeta\nalpha\ngamma\nbeta\n' > words.txt
printf 'alpha\nbeta\n' > words2.txt
printf 'error: disk full\ninfo: ok\nerror: again\nwarning: hot\n' > logs/app.log
printf 'info: fine\n' > logs/old.log
printf 'debug\n' > logs/debug.log
printf 'x\n' > main.tex
printf 'y\n' > docs/paper.tex
printf 'z\n' > A/B/deep.tex
printf 'set x\n' > httpd.conf
printf 'k=v\n' > docs/app.conf
printf 'ini\n' > config.ini
printf 'perl\n' > script.pl
printf '#!/bin/sh\necho hi\n' > run.sh
printf '#!/bin/sh\necho build\n' > build/build.sh
printf 'all:\n\ttrue\n' > Makefile
printf 'all:\n\ttrue\n' > src/Makefile
printf 'old\n' > notes.bak
printf 'old\n' > docs/draft.bak
printf 'tmp\n' > scratch.tmp
printf 'swap\n' > .main.c.swp
printf 'backup\n' > README~
printf 'plist\n' > Info.plist
printf 'data\n' > jcho/a.data
printf 'data\n' > jcho/2b.data
printf 'log\n' > path/server.log
printf 'rand\n' > randfiles/r1
printf 'rand\n' > randfiles/r2
printf 'rand\n' > randfiles/r3
printf 'pdf\n' > polkadots/dots.pdf
printf 'f1\n' > file1
printf 'f1\n' > A/file1
printf 'fn\n' > filename
printf 'fb\n' > foo_bar
printf 't2\n' > test2
printf 'x\n' > FILES.EXT
printf 'ds\n' > .DS_STORE
printf 'fink\n' > mac_fink_stuff
printf 'c\n' > myconf.cfg
printf 'disc\n' > discography.txt
printf 'shp\n' > roads.shp
printf 'foo\n' > barfoo
printf 'sw\n' > x.swp
printf 'less\n' > style.less
printf 'rpm\n' > pkg.rpm
printf 'axvw\n' > view.axvw
printf 'mov\n' > media/clip.mov
printf 'bam\n' > reads.bam
printf 'bam\n' > src/more.bam
printf 'pyc\n' > src/tool.pyc
: > empty.txt
: > src/empty.c
mkdir -p .svn
printf 'svn\n' > .svn/entries
# sizes (sparse)
truncate -s 150M media/movie.mp4
truncate -s 30M media/music/song.ogg
truncate -s 5M media/music/track.mp3
truncate -s 120M media/music/album.ogg
truncate -s 100M exact100.bin
truncate -s 2M media/photos/cat.jpg
truncate -s 300K media/photos/dog.png
truncate -s 1536M big.iso
truncate -s 50 fifty.bin
truncate -s 2000 twok.bin
printf 'gz\n' > logs/old.log.tmp && gzip -c logs/old.log.tmp > archive.gz && rm logs/old.log.tmp
mkdir -p pack && printf 'p1\n' > pack/p1.txt && printf 'p2\n' > pack/p2.txt
# fixed member times: the archives must be byte-identical in every copy of
# the tree (a tree-judged entry compares sizes across two copies)
tar --mtime=@0 -czf bundle.tar.gz pack
tar --mtime=@0 -cf plain.tar pack
(cd pack && zip -q ../bundle.zip p1.txt p2.txt)
rm -r pack
# links
ln -s src/main.c good_link
ln -s does/not/exist broken_link
ln -s nowhere src/dead_link
# permissions
chmod 755 run.sh build/build.sh
chmod 777 config.ini
chmod 664 words.txt words2.txt
chmod 700 mydir
chmod 644 myfile.txt todo.txt
# ages: most files are new; some are old
age 3 src/main.c docs/notes.txt
age 10 logs/old.log notes.bak docs/draft.bak media/clip.mov
age 40 logs/debug.log scratch.tmp reads.bam media/music/track.mp3 old_dir 2>/dev/null || age 40 logs/debug.log scratch.tmp reads.bam media/music/track.mp3
age 400 README~ Info.plist style.less
touch -a -d "@$((now - 45 * 86400))" docs/app.conf httpd.conf
touch -d "@$((now - 86400 * 2))" httpd.conf
touch -d "@$((now - 86400 * 5))" some_file 2>/dev/null || { printf 's\n' > some_file; touch -d "@$((now - 86400 * 5))" some_file; }
# directory ages (after their contents are written)
age 20 A A/D A/B nasa octave parent_directory parent_directory/child
# a git repository
git -C project init -q 2>/dev/null || true
printf 'readme\n' > project/README.md
printf 'ignored\n' > project/.gitignore
