#!/usr/bin/perl
# make-mmdb.pl - write the small MaxMind DB files the tests use, into DIR:
#   country.mmdb   GeoLite2-Country layout (country, registered_country,
#                  represented_country records with iso_code)
#   asn.mmdb       GeoLite2-ASN layout (autonomous_system_number)
#   city.mmdb      a City layout (city, location, ...) typed DBIP-City-Lite
#   v4only.mmdb    an IPv4-only country database
#   corrupt.mmdb   a copy of country.mmdb whose search tree is garbled: it
#                  opens, but every lookup fails (the tempfail case)
# Only documentation and test address ranges are used. Nothing is downloaded.
# With "swapped", 203.0.113.0/25 and 203.0.113.128/25 trade countries (GB and
# NG): the reload test replaces country.mmdb with that, as geoipupdate would.
# Usage: make-mmdb.pl DIR [swapped]
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $dir = shift @ARGV or die "usage: $0 DIR [swapped]\n";
my $swapped = (shift(@ARGV) // "") eq "swapped";
my ($low, $high) = $swapped ? ("NG", "GB") : ("GB", "NG");

my %types = (
	country                        => 'map',
	registered_country             => 'map',
	represented_country            => 'map',
	iso_code                       => 'utf8_string',
	names                          => 'map',
	en                             => 'utf8_string',
	autonomous_system_number       => 'uint32',
	autonomous_system_organization => 'utf8_string',
	city                           => 'map',
	continent                      => 'map',
	code                           => 'utf8_string',
	location                       => 'map',
	latitude                       => 'double',
	longitude                      => 'double',
);

# tree - an empty tree of one database type, documentation ranges allowed
sub tree {
	my ($type) = @_;
	return MaxMind::DB::Writer::Tree->new(
		ip_version               => 6,
		record_size              => 24,
		database_type            => $type,
		languages                => ['en'],
		description              => { en => "relay-milter test data ($type)" },
		map_key_type_callback    => sub { $types{ $_[0] } },
		remove_reserved_networks => 0,
		alias_ipv6_to_ipv4       => 1,
	);
}

# write_tree - write atomically, so a test never sees half a file
sub write_tree {
	my ($tree, $name) = @_;
	my $tmp = "$dir/$name.tmp";
	open my $fh, '>:raw', $tmp or die "$tmp: $!\n";
	$tree->write_tree($fh);
	close $fh or die "$tmp: $!\n";
	rename $tmp, "$dir/$name" or die "$dir/$name: $!\n";
}

my $c = tree('GeoLite2-Country');
# located and registered in the same country
$c->insert_network('203.0.113.0/25', { country => { iso_code => $low },
	registered_country => { iso_code => $low } });
$c->insert_network('203.0.113.128/25', { country => { iso_code => $high },
	registered_country => { iso_code => $high } });
# only the registered country is known: the fallback
$c->insert_network('198.51.100.0/25', { registered_country => { iso_code => 'US' } });
# located in DE, represents US (a base abroad): DE counts
$c->insert_network('198.51.100.128/25', { country => { iso_code => 'DE' },
	registered_country => { iso_code => 'DE' }, represented_country => { iso_code => 'US' } });
# IPv6
$c->insert_network('2001:db8:2::/48', { country => { iso_code => 'FR' },
	registered_country => { iso_code => 'FR' } });
# listed, but without any country (continent-only entries exist)
$c->insert_network('2001:db8:3::/48', { names => { en => 'nowhere' } });
write_tree($c, 'country.mmdb');

# city.mmdb: a City layout under DB-IP's type name, for the same country lookups
my $city = tree('DBIP-City-Lite');
$city->insert_network('203.0.113.0/24', { city => { names => { en => 'London' } },
	continent => { code => 'EU' }, country => { iso_code => 'GB', names => { en => 'United Kingdom' } },
	location => { latitude => 51.5, longitude => -0.12 } });
write_tree($city, 'city.mmdb');

my $a = tree('GeoLite2-ASN');
$a->insert_network('203.0.113.0/25', { autonomous_system_number => 64500,
	autonomous_system_organization => 'Example Net A' });
$a->insert_network('203.0.113.128/25', { autonomous_system_number => 64501,
	autonomous_system_organization => 'Example Net B' });
$a->insert_network('198.51.100.0/24', { autonomous_system_number => 64502,
	autonomous_system_organization => 'Example Net C' });
$a->insert_network('2001:db8:2::/48', { autonomous_system_number => 4200000000,
	autonomous_system_organization => 'Example Net D' });
write_tree($a, 'asn.mmdb');

# v4only.mmdb: an IPv4-only country database; an IPv6 client is simply not listed
my $v4 = MaxMind::DB::Writer::Tree->new(
	ip_version               => 4,
	record_size              => 24,
	database_type            => 'GeoLite2-Country',
	languages                => ['en'],
	description              => { en => 'relay-milter test data (IPv4 only)' },
	map_key_type_callback    => sub { $types{ $_[0] } },
	remove_reserved_networks => 0,
);
$v4->insert_network('203.0.113.0/24', { country => { iso_code => 'GB' } });
write_tree($v4, 'v4only.mmdb');

# corrupt.mmdb: the first node's two records point far beyond the data
# section, so every lookup reports a corrupt search tree.
open my $in, '<:raw', "$dir/country.mmdb" or die "$dir/country.mmdb: $!\n";
my $bytes = do { local $/; <$in> };
close $in;
substr($bytes, 0, 6) = "\xff" x 6;
open my $out, '>:raw', "$dir/corrupt.mmdb.tmp" or die "$dir/corrupt.mmdb.tmp: $!\n";
print $out $bytes;
close $out or die "$dir/corrupt.mmdb.tmp: $!\n";
rename "$dir/corrupt.mmdb.tmp", "$dir/corrupt.mmdb" or die "$dir/corrupt.mmdb: $!\n";
