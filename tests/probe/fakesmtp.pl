#!/usr/bin/perl
# fakesmtp.pl - a scripted, misbehaving SMTP server for relay-probe tests
#
# usage: fakesmtp.pl SCENARIO PORTFILE LOGFILE [v6]
#
# Listens on 127.0.0.1 (or ::1 with "v6") on a free port, writes the port to
# PORTFILE, logs every command it receives to LOGFILE, and serves connections
# one after another as SCENARIO says, until killed (or after 60 s, so a
# broken test never leaves it behind). Loopback only, by construction.
#
# Scenarios:
#   refuse        a well-behaved server that refuses every recipient
#   silent        accepts the connection and never says anything
#   longline      a greeting line of 5000 bytes
#   manylines     an EHLO reply of 1000 lines
#   garbage       a greeting that is not an SMTP reply
#   codechange    a multi-line reply whose code changes (250-/251)
#   ehlo-refused  502 to EHLO (relay-probe must fall back to HELO)
#   mail-refused  550 to every MAIL FROM
#   421-mid       421 to the third MAIL FROM
#   accept-first  accepts the first recipient, then 421
#   rcpt-3xx      354 to RCPT TO (nonsense)
#   stall-rcpt    never answers RCPT TO
#   binary        escape sequences, BEL and NUL in replies
#   starttls-inject  pipelines a reply behind "220 go ahead" to STARTTLS
#   nohost        greeting and EHLO without a host name
#   twolabel      host name "fake.test", equal to its domain
#   random:SEED   seeded random replies: valid, multi-line, control bytes,
#                 garbage, overlong, code changes, 421, abrupt close
#   starttls-stall   says 220 to STARTTLS, then never speaks TLS
#   starttls-garbage says 220 to STARTTLS, then sends plain text
use strict;
use warnings;
use IO::Socket::IP;

my ($scenario, $portfile, $logfile, $family) = @ARGV;
die "usage: fakesmtp.pl SCENARIO PORTFILE LOGFILE [v6]\n"
    unless defined $logfile;
my $srv = IO::Socket::IP->new(
	Listen => 5, Proto => 'tcp', ReuseAddr => 1,
	LocalHost => (defined $family && $family eq 'v6') ? '::1' : '127.0.0.1',
	LocalPort => 0) or die "fakesmtp: listen: $@\n";
open my $log, '>>', $logfile or die "fakesmtp: $logfile: $!\n";
$log->autoflush(1);
open my $pf, '>', "$portfile.tmp" or die "fakesmtp: $portfile: $!\n";
print $pf $srv->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile or die "fakesmtp: rename: $!\n";

$SIG{ALRM} = sub { exit 0 };
$SIG{PIPE} = 'IGNORE';
alarm 60;

my ($mails, $rcpts) = (0, 0);
while (my $c = $srv->accept) {
	$c->autoflush(1);
	serve($c);
	close $c;
}

sub out { my ($c, $s) = @_; print $c $s; }

# serve - one connection, as the scenario says
sub serve {
	my ($c) = @_;
	if ($scenario =~ /\Arandom:(\d+)\z/) { serve_random($c, $1); return; }
	if ($scenario eq 'silent') { sleep 30; return; }
	if ($scenario eq 'longline') { out($c, '220 ' . ('x' x 5000)); sleep 5; return; }
	if ($scenario eq 'garbage') { out($c, "hello there\r\n"); sleep 5; return; }
	if ($scenario eq 'binary') {
		out($c, "220 mx.fake.test \e[31mred\x00\x07 ESMTP\r\n");
	} elsif ($scenario eq 'nohost') {
		out($c, "220 ESMTP ready\r\n");
	} elsif ($scenario eq 'twolabel') {
		out($c, "220 fake.test ESMTP\r\n");
	} else {
		out($c, "220 mx.fake.test ESMTP fake\r\n");
	}
	while (defined(my $line = <$c>)) {
		$line =~ s/\r?\n\z//;
		print $log "$line\n";
		my $cmd = uc((split / /, $line)[0] // '');
		if ($cmd eq 'EHLO') {
			if ($scenario eq 'ehlo-refused') { out($c, "502 5.5.2 Error: command not recognized\r\n"); }
			elsif ($scenario eq 'manylines') { out($c, "250-x\r\n") for 1 .. 1000; out($c, "250 ok\r\n"); }
			elsif ($scenario eq 'codechange') { out($c, "250-mx.fake.test\r\n251 ok\r\n"); }
			elsif ($scenario eq 'nohost') { out($c, "250 Hello\r\n"); }
			else { out($c, "250-mx.fake.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"); }
		} elsif ($cmd eq 'HELO') {
			out($c, "250 mx.fake.test\r\n");
		} elsif ($cmd eq 'STARTTLS') {
			if ($scenario eq 'starttls-inject') { out($c, "220 go ahead\r\n250 injected\r\n"); }
			elsif ($scenario eq 'starttls-stall') { out($c, "220 go ahead\r\n"); sleep 30; return; }
			elsif ($scenario eq 'starttls-garbage') { out($c, "220 go ahead\r\n"); sleep 1; out($c, "this is not TLS\r\n" x 100); sleep 5; return; }
			else { out($c, "454 4.7.0 TLS not available\r\n"); }
		} elsif ($cmd eq 'MAIL') {
			$mails++;
			if ($scenario eq 'mail-refused') { out($c, "550 5.7.1 sender refused\r\n"); }
			elsif ($scenario eq '421-mid' && $mails == 3) { out($c, "421 4.7.0 closing\r\n"); return; }
			else { out($c, "250 2.1.0 Ok\r\n"); }
		} elsif ($cmd eq 'RCPT') {
			$rcpts++;
			if ($scenario eq 'accept-first' && $rcpts == 1) { out($c, "250 2.1.5 Ok\r\n"); }
			elsif ($scenario eq 'accept-first') { out($c, "421 4.3.2 shutting down\r\n"); return; }
			elsif ($scenario eq 'rcpt-3xx') { out($c, "354 what\r\n"); }
			elsif ($scenario eq 'stall-rcpt') { sleep 30; return; }
			elsif ($scenario eq 'binary') { out($c, "550 5.7.1 \e]0;pwned\x07 denied\x00\r\n"); }
			else { out($c, "554 5.7.1 Relay access denied\r\n"); }
		} elsif ($cmd eq 'RSET') {
			out($c, "250 2.0.0 Ok\r\n");
		} elsif ($cmd eq 'QUIT') {
			out($c, "221 2.0.0 Bye\r\n");
			return;
		} elsif ($cmd eq 'DATA') {
			print $log "!!! DATA RECEIVED\n";
			out($c, "554 5.5.1 no\r\n");
		} else {
			out($c, "502 5.5.2 Error: command not recognized\r\n");
		}
	}
}

# rand_text - up to N bytes of text, now and then with control bytes
sub rand_text {
	my ($n) = @_;
	my $len = int(rand($n));
	return join '', map {
		rand() < 0.1 ? chr(int(rand(32))) : rand() < 0.05 ?
		    chr(128 + int(rand(128))) : chr(32 + int(rand(95)))
	} 1 .. $len;
}

# rand_reply - one reply, usually well-formed, sometimes not
sub rand_reply {
	my @codes = (220, 250, 251, 354, 421, 450, 451, 452, 500, 501, 502,
	    503, 550, 551, 553, 554);
	my $code = $codes[int(rand(@codes))];
	my $r = rand();
	return "$code " . rand_text(80) . "\r\n" if $r < 0.5;
	if ($r < 0.7) {
		my $n = 1 + int(rand(80));
		return join('', map { "$code-" . rand_text(40) . "\r\n" } 1 .. $n)
		    . "$code " . rand_text(20) . "\r\n";
	}
	return "$code-x\r\n" . ($code + 1) . " y\r\n" if $r < 0.75;
	return rand_text(200) . "\r\n" if $r < 0.85;
	return "$code " . ('z' x (500 + int(rand(2000)))) . "\n" if $r < 0.9;
	return "$code" . rand_text(3) . "\n" if $r < 0.95;
	return undef; # hang up
}

# serve_random - a seeded random server; never stalls, so runs stay short
sub serve_random {
	my ($c, $seed) = @_;
	our $rand_seeded;
	srand($seed) unless $rand_seeded++;
	out($c, rand() < 0.8 ? "220 mx.fake.test ESMTP\r\n" : rand_reply() // return);
	while (defined(my $line = <$c>)) {
		$line =~ s/\r?\n\z//;
		print $log "$line\n";
		print $log "!!! DATA RECEIVED\n" if uc($line) eq 'DATA';
		my $cmd = uc((split / /, $line)[0] // '');
		if ($cmd eq 'EHLO' && rand() < 0.6) {
			out($c, "250-mx.fake.test\r\n250-STARTTLS\r\n250 XCLIENT ADDR NAME\r\n");
			next;
		}
		if (($cmd eq 'RSET' || $cmd eq 'MAIL') && rand() < 0.8) {
			out($c, "250 2.0.0 Ok\r\n");
			next;
		}
		my $reply = rand_reply();
		return unless defined $reply;
		out($c, $reply);
	}
}
