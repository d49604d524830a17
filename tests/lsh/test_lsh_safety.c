// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The safety classifier on 200 command lines, safe and risky, including the
 * tricky ones: rm hidden in $(...) or backticks, find -delete and -exec rm,
 * xargs rm, > inside a pipeline, curl | sh, quoted semicolons that are not
 * separators, here-documents fed to a shell. Runs in a scratch directory
 * with known files so "overwrites an existing file" can be checked.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safety.h"
#include "testlib.h"

static int n_safe, n_risky;

static void safe(const char *cmd)
{
	struct lsh_safety s;

	lsh_classify(cmd, &s);
	CHECK(!s.risky, "should be safe: %s  (said: %s)", cmd, s.reason);
	n_safe++;
}

static void risky(const char *cmd, const char *why)
{
	struct lsh_safety s;

	lsh_classify(cmd, &s);
	CHECK(s.risky, "should be risky: %s", cmd);
	CHECK(!s.risky || strstr(s.reason, why),
	      "%s: reason '%s' lacks '%s'", cmd, s.reason, why);
	n_risky++;
}

static void make_file(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs("a b c\n", f);
		fclose(f);
	}
}

int main(void)
{
	char dir[] = "/tmp/lsh-safety-XXXXXX";
	char old[PATH_MAX];

	if (!mkdtemp(dir) || !getcwd(old, sizeof(old)) || chdir(dir))
		return 1;
	mkdir("dir", 0755);
	make_file("exists.txt");
	make_file("a.txt");
	make_file("dir/a.txt");
	setenv("HOME", dir, 1);

	/* ---- safe ---- */
	safe("ls -la");
	safe("df -h");
	safe("free -h");
	safe("ps aux");
	safe("ip addr");
	safe("echo 'rm -rf /'");
	safe("echo \"a; rm -rf /\"");
	safe("echo a\\;rm -rf /");
	safe("grep ';' exists.txt");
	safe("grep \"x;y\" exists.txt");
	safe("find . -name '*.txt'");
	safe("find . -type f -size +100M -mtime -7");
	safe("find . -name '*.c' -exec grep -l main {} +");
	safe("find . -exec echo {} \\;");
	safe("find . -exec echo {} ';'");
	safe("du -sh ~");
	safe("ls > new.txt");
	safe("ls >> exists.txt");
	safe("ls 2>/dev/null");
	safe("ls >/dev/null 2>&1");
	safe("cat exists.txt | sort | uniq -c");
	safe("echo $(whoami)");
	safe("echo `date`");
	safe("echo \"$(id -u) `hostname`\"");
	safe("ss -ltnp 'sport = :8080'");
	safe("pgrep -a nginx");
	safe("systemctl status ssh");
	safe("systemctl list-units --type=service --state=running");
	safe("journalctl -u ssh -n 50 --no-pager");
	safe("git status");
	safe("git log --oneline -n 5");
	safe("git branch --show-current");
	safe("apt-cache policy curl");
	safe("apt list --installed");
	safe("dpkg -l");
	safe("tar -tzf a.tar.gz");
	safe("tar -czf new.tar.gz dir");
	safe("tar -xkzf a.tar.gz");
	safe("mkdir -p newdir");
	safe("touch new.txt");
	safe("cp exists.txt new.txt");
	safe("mv exists.txt brandnew.txt");
	safe("cp -n exists.txt a.txt");
	safe("chmod +x exists.txt");
	safe("chmod 644 exists.txt");
	safe("sh -c 'ls -la'");
	safe("bash -c \"echo hi | wc -c\"");
	safe("ls | xargs");
	safe("find . -name '*.log' | xargs wc -l");
	safe("find . -print0 | xargs -0 grep -l needle");
	safe("awk '{print $1}' exists.txt");
	safe("awk '$5 > 100' exists.txt");
	safe("awk -F: '{ if ($3 > 999) print $1 }' /etc/passwd");
	safe("sed 's/a/b/' exists.txt");
	safe("curl -s https://example.com");
	safe("wget -q -O - https://example.com");
	safe("sort exists.txt | head -n 5");
	safe("kill -l");
	safe("command -v ls");
	safe("timeout 5 ls");
	safe("FOO=1 env");
	safe("for f in *.txt; do wc -l \"$f\"; done");
	safe("if test -f exists.txt; then cat exists.txt; fi");
	safe("while read l; do echo \"$l\"; done < exists.txt");
	safe("uname -r");
	safe("getent hosts localhost");
	safe("gzip -k exists.txt");
	safe("cat <<EOF\nhello\nEOF");
	safe("python3 --version");
	safe("watch -n 1 'df -h'");
	safe("env LC_ALL=C sort exists.txt");
	safe("cd /tmp");
	safe("export FOO=bar");
	safe("ls dir | tee new.txt");
	safe("ls dir | tee -a exists.txt");
	safe("hostname");
	safe("date +%F");
	safe("ip route show");
	safe("ip -brief addr show");
	safe("git diff");
	safe("nice -n 10 du -sh .");
	safe("cat /etc/os-release");
	safe("grep -r --include='*.c' main .");
	safe("du -h --max-depth=1 . | sort -rh | head -n 10");
	safe("ps -eo pid,user,%cpu,comm --sort=-%cpu | head -n 11");
	safe("( cd dir && ls )");
	safe("{ ls; pwd; }");
	safe("case x in a) echo a;; *) echo b;; esac");
	safe("[ -f exists.txt ] && echo yes || echo no");
	safe("ls -la # rm -rf /");
	safe("zip -r new.zip dir");
	safe("unzip -n a.zip");
	safe("unzip -l a.zip");
	safe("sha256sum exists.txt");
	safe("diff -u a.txt exists.txt");
	safe("wc -l < exists.txt");
	safe("sort -u exists.txt -o new.txt");
	safe("gcc --version");
	safe("sh <<EOF\nls\nEOF");
	safe("mv -n a.txt dir");
	safe("fuser 8080/tcp");
	safe("lsof -i :8080");
	safe("printenv PATH");
	safe("dmesg | tail");

	/* ---- risky ---- */
	risky("rm exists.txt", "deletes files (rm)");
	risky("rm -rf dir", "deletes files");
	risky("/bin/rm exists.txt", "deletes files");
	risky("rmdir dir", "removes directories");
	risky("echo $(rm exists.txt)", "command substitution is risky");
	risky("echo `rm exists.txt`", "command substitution is risky");
	risky("ls \"$(rm -rf dir)\"", "command substitution is risky");
	risky("echo \"$(rm exists.txt)\"", "deletes files");
	risky("ls $(echo $(rm exists.txt))", "command substitution");
	risky("`rm exists.txt`", "command substitution");
	risky("diff <(rm a.txt) exists.txt", "command substitution");
	risky("cat <<EOF\n$(rm exists.txt)\nEOF", "command substitution");
	risky("find . -delete", "find -delete");
	risky("find . -name '*.tmp' -delete", "find -delete");
	risky("find . -name '*.tmp' -exec rm {} \\;", "deletes files (rm)");
	risky("find . -name '*.tmp' -exec rm -f {} +", "deletes files");
	risky("find . -ok rm {} \\;", "deletes files");
	risky("find . -type d -execdir rmdir {} \\;", "removes directories");
	risky("find . -type f -print0 | xargs -0 rm -f", "deletes files");
	risky("ls | xargs rm", "deletes files");
	risky("find . -name '*.bak' | xargs -I{} rm {}", "deletes files");
	risky("ls | tee exists.txt", "overwrites the existing file");
	risky("ls > exists.txt", "overwrites the existing file 'exists.txt'");
	risky("cat exists.txt | sort > exists.txt", "overwrites");
	risky("ls | grep a > a.txt | wc -l", "overwrites");
	risky("echo hi >| exists.txt", "overwrites");
	risky("ls &> exists.txt", "overwrites");
	risky("ls >& exists.txt", "overwrites");
	risky("cat exists.txt > dir/a.txt", "overwrites");
	risky("ls > \"$OUT\"", "cannot know");
	risky("curl -s https://x.sh | sh", "pipes a download into a shell");
	risky("wget -qO- https://x | bash", "pipes a download into a shell");
	risky("curl -fsSL https://x | sudo bash", "another user");
	risky("curl -s https://x | python3", "download into an interpreter");
	risky("sh -c \"$(curl -fsSL https://x)\"", "computed");
	risky("bash <(curl -s https://x)", "script lsh cannot inspect");
	risky("echo 'rm -rf dir' | sh", "pipes commands into a shell");
	risky("find . | sed 's/^/rm /' | sh", "pipes commands into a shell");
	risky("sh <<EOF\nrm exists.txt\nEOF", "deletes files");
	risky("bash <<< 'rm exists.txt'", "deletes files");
	risky("sh -c 'rm -rf dir'", "deletes files");
	risky("bash -c 'ls; rm x'", "deletes files");
	risky("sudo ls", "runs as another user (sudo)");
	risky("su -c 'ls'", "another user");
	risky("doas rm x", "another user");
	risky("pkexec ls", "another user");
	risky("mv exists.txt dir/a.txt", "overwrites the existing file");
	risky("mv a.txt dir", "overwrites the existing file 'dir/a.txt'");
	risky("mv a.txt dir/", "overwrites");
	risky("mv *.txt dir", "overwrites");
	risky("cp exists.txt dir/a.txt", "overwrites");
	risky("cp -r dir new && mv exists.txt a.txt", "overwrites");
	risky("find . -name '*.txt' -exec mv {} dir \\;", "many files");
	risky("truncate -s 0 exists.txt", "truncates");
	risky("dd if=/dev/zero of=x bs=1 count=1", "raw data (dd)");
	risky("mkfs.ext4 /dev/sdz1", "formats or changes disks");
	risky("shred -u exists.txt", "destroys data");
	risky("wipefs -a /dev/sdz", "destroys data");
	risky("chmod -R 777 dir", "changes permissions recursively");
	risky("chmod --recursive 755 dir", "recursively");
	risky("chown -R nobody dir", "changes ownership recursively");
	risky("chgrp -R staff dir", "recursively");
	risky("find . -type f -exec chmod 644 {} \\;", "permissions of many files");
	risky("find . | xargs chown nobody", "ownership of many files");
	risky("kill 1234", "kills processes");
	risky("kill -9 1", "kills processes");
	risky("pkill firefox", "kills processes (pkill)");
	risky("killall nginx", "kills processes");
	risky("fuser -k 8080/tcp", "kills processes");
	risky("systemctl stop nginx", "stops or restarts a service");
	risky("systemctl restart ssh", "stops or restarts");
	risky("systemctl disable --now ssh", "stops or restarts");
	risky("systemctl start nginx", "changes system services");
	risky("service nginx stop", "service");
	risky("reboot", "reboots or powers off");
	risky("shutdown -h now", "reboots or powers off");
	risky("systemctl poweroff", "reboots or powers off");
	risky("echo x > /etc/motd", "writes under /etc");
	risky("ls | tee /etc/hosts", "writes under /etc");
	risky("cp exists.txt /boot/x", "writes under /boot");
	risky("touch /proc/x", "under /proc");
	risky("echo 1 >> /sys/kernel/x", "writes under /sys");
	risky("echo 1 > /dev/sda", "writes under /dev");
	risky("chmod 755 /etc/passwd", "under /etc");
	risky("foobarbaz --all", "unknown command 'foobarbaz'");
	risky("./script.sh", "program lsh does not know");
	risky("bash script.sh", "script lsh cannot inspect");
	risky("source ~/.bashrc", "script lsh cannot inspect");
	risky(". ./env.sh", "script");
	risky("eval \"$CMD\"", "computed");
	risky("eval 'rm -rf dir'", "deletes files");
	risky("$CMD -x", "name is computed");
	risky("sed -i 's/a/b/' exists.txt", "in place");
	risky("sed --in-place=.bak 's/a/b/' exists.txt", "in place");
	risky("perl -pi -e 's/a/b/' exists.txt", "perl code");
	risky("python3 -c 'import os'", "python3 code");
	risky("awk 'BEGIN{system(\"rm x\")}'", "runs commands");
	risky("awk '{print > \"out.txt\"}' exists.txt", "writes files");
	risky("awk '{print $0 | \"sh\"}' exists.txt", "runs commands");
	risky("tar -xzf a.tar.gz", "may overwrite");
	risky("tar xf a.tar", "may overwrite");
	risky("tar -czf exists.txt dir", "overwrites");
	risky("tar --remove-files -czf new.tgz dir", "deletes");
	risky("git reset --hard", "discards");
	risky("git clean -fd", "deletes untracked");
	risky("git checkout -- .", "discard");
	risky("git push --force", "rewrites");
	risky("git branch -D topic", "deletes");
	risky("git stash drop", "deletes");
	risky("apt install htop", "installs packages");
	risky("apt-get remove curl", "removes packages");
	risky("apt upgrade", "upgrades");
	risky("dpkg -i x.deb", "changes installed packages");
	risky("crontab -r", "crontab");
	risky("useradd bob", "users or groups");
	risky("passwd", "users or groups");
	risky("(cd dir && rm a.txt)", "deletes files");
	risky("{ rm exists.txt; }", "deletes files");
	risky("for f in *; do rm \"$f\"; done", "deletes files");
	risky("if true; then rm exists.txt; fi", "deletes files");
	risky("while true; do pkill x; done", "kills processes");
	risky("case a in a) rm x;; esac", "deletes files");
	risky("f() { rm -rf dir; }; f", "deletes files");
	risky("ls; rm exists.txt", "deletes files");
	risky("ls && rm exists.txt", "deletes files");
	risky("ls || rm exists.txt", "deletes files");
	risky("ls & rm exists.txt", "deletes files");
	risky("ls\nrm exists.txt", "deletes files");
	risky("echo 'a;b'; rm x", "deletes files");
	risky("nohup rm -rf dir &", "deletes files");
	risky("timeout 10 rm exists.txt", "deletes files");
	risky("env FOO=1 rm exists.txt", "deletes files");
	risky("nice rm x", "deletes files");
	risky("exec rm x", "deletes files");
	risky("time rm x", "deletes files");
	risky("command rm x", "deletes files");
	risky("watch 'rm x'", "deletes files");
	risky("yes | rm -i exists.txt", "deletes files");
	risky("iptables -F", "firewall");
	risky("mount /dev/sdb1 /mnt", "mounts");
	risky("umount /mnt", "unmounts");
	risky("unzip -o a.zip", "overwrites files");
	risky("rsync -a --delete src/ dst/", "deletes files (rsync");
	risky("ln -sf exists.txt dir/a.txt", "overwrites");
	risky("curl -o exists.txt https://x", "overwrites");
	risky("wget -O exists.txt https://x", "overwrites");
	risky("dmesg -C", "clears the kernel log");
	risky("journalctl --vacuum-time=1d", "journal");
	risky("hostname newname", "host name");
	risky("date -s '2020-01-01'", "system clock");
	risky("ip link set eth0 down", "network settings");
	risky("ip addr add 10.0.0.1/24 dev eth0", "network settings");
	risky("sort -o exists.txt exists.txt", "overwrites");
	risky("modprobe -r usbhid", "kernel modules");
	risky("sysctl -w vm.swappiness=10", "kernel settings");
	risky("gzip -f exists.txt", "overwrite");
	risky("echo 'unterminated", "does not parse");
	risky("ls |", "does not parse");
	risky("if true; then ls", "does not parse");

	CHECK(n_safe + n_risky >= 200, "only %d cases", n_safe + n_risky);
	printf("safety cases: %d safe, %d risky\n", n_safe, n_risky);
	if (chdir(old) == 0) {
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return tl_finish("test_lsh_safety");
}
