package schema

// A scanner for JSON that json.Valid has already accepted, shared by the
// strict visit decoder and the sync push decoder: it never meets a
// structure error, so it only needs to find where each value ends, which
// is far cheaper than decoding into maps to find the keys.

// SkipJSONSpace returns the index of the first byte at or after i that is
// not JSON white space.
func SkipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// JSONStringEnd returns the index just past the string that starts at i.
func JSONStringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// JSONValueEnd returns the index just past the value that starts at i.
func JSONValueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return JSONStringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = JSONStringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
