/* domain.c - the syntax of a domain name, checked one way everywhere */
#include "domain.h"

/* ldh - a letter, digit or hyphen */
static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-';
}

/* domain_check - why the name is not a domain name, or NULL */
const char *domain_check(const char *name, size_t len)
{
	size_t start = 0;

	if (len > DOMAIN_NAME_MAX)
		return "domain longer than 253 characters";
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (name[i] == '_')
				return "underscore in domain";
			if (!ldh(name[i]))
				return "invalid character in domain";
			continue;
		}
		if (i == start)
			return "empty label in domain";
		if (i - start > DOMAIN_LABEL_MAX)
			return "domain label longer than 63 characters";
		if (name[start] == '-' || name[i - 1] == '-')
			return "domain label starts or ends with a hyphen";
		start = i + 1;
	}
	return NULL;
}

/* domain_valid - yes or no, one trailing dot allowed */
bool domain_valid(const char *name, size_t len)
{
	if (len > 1 && name[len - 1] == '.')
		len--;
	return domain_check(name, len) == NULL;
}
