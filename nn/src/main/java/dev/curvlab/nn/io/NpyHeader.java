package dev.curvlab.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a NumPy {@code .npy} file (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Layout: the magic {@code \x93NUMPY}, one byte major and one byte minor version, the header
 * length as little-endian {@code uint16} (version 1.0) or {@code uint32} (2.0, 3.0), then an ASCII
 * (1.0, 2.0) or UTF-8 (3.0) Python dict literal such as
 * {@code {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }} padded with spaces and ended
 * by a newline. The array data starts right after it, at {@link #dataOffset()}.
 *
 * <p>Package-private: shared by {@link NpyFile} and {@link NpyMatrixWriter}.
 *
 * @param major format major version (1, 2 or 3)
 * @param minor format minor version
 * @param descr the dtype string, e.g. {@code "<f8"}
 * @param fortranOrder whether data is stored in column-major order
 * @param shape array shape, non-negative entries; length 0 for a 0-d array
 * @param dataOffset byte offset of the first data byte
 */
record NpyHeader(int major, int minor, String descr, boolean fortranOrder, long[] shape, long dataOffset) {

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;

    /** Number of elements (1 for a 0-d array). */
    long elementCount() {
        long n = 1;
        for (long s : shape) {
            n *= s; // overflow already excluded by read()
        }
        return n;
    }

    /** Formats a shape as NumPy does, e.g. {@code ()}, {@code (3,)}, {@code (3, 4)}. */
    static String shapeString(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(')').toString();
    }

    /**
     * Encodes a complete header (magic, version, length, padded dict) such that the data offset is
     * a multiple of 64. Uses version 1.0 unless the dict is longer than 65535 bytes, then 2.0.
     */
    static byte[] encode(String descr, boolean fortranOrder, long[] shape) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortranOrder ? "True" : "False")
                + ", 'shape': " + shapeString(shape) + ", }";
        int major = 1;
        int pre = 10;
        int total = roundUp(pre + dict.length() + 1);
        if (total - pre > 0xFFFF) {
            major = 2;
            pre = 12;
            total = roundUp(pre + dict.length() + 1);
        }
        int hlen = total - pre;
        ByteBuffer bb = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            bb.putShort((short) hlen);
        } else {
            bb.putInt(hlen);
        }
        bb.put(dict.getBytes(StandardCharsets.US_ASCII));
        while (bb.position() < total - 1) {
            bb.put((byte) ' ');
        }
        bb.put((byte) '\n');
        return bb.array();
    }

    private static int roundUp(int n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Reads and validates the header at the start of {@code ch}. */
    static NpyHeader read(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pre, 0, file, "file header");
        pre.flip();
        byte[] magic = new byte[6];
        if (pre.remaining() >= 6) {
            pre.get(magic);
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new NpyFormatException(file, "not an npy file: bad magic bytes (expected \\x93NUMPY"
                    + " at offset 0, file is " + size + " bytes)");
        }
        if (pre.remaining() < 4) {
            throw new NpyFormatException(file, "truncated npy header: file is only " + size + " bytes");
        }
        int major = pre.get() & 0xFF;
        int minor = pre.get() & 0xFF;
        long hlen;
        int preLen;
        if (major == 1) {
            hlen = pre.getShort() & 0xFFFF;
            preLen = 10;
        } else if (major == 2 || major == 3) {
            if (pre.remaining() < 4) {
                throw new NpyFormatException(file, "truncated npy header: file is only " + size + " bytes");
            }
            hlen = pre.getInt() & 0xFFFFFFFFL;
            preLen = 12;
        } else {
            throw new NpyFormatException(file, "unsupported npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0, 3.0)");
        }
        if (preLen + hlen > size) {
            throw new NpyFormatException(file, "truncated npy header: header length field says " + hlen
                    + " bytes after offset " + preLen + " but the file is only " + size + " bytes");
        }
        if (hlen > Integer.MAX_VALUE - 16) {
            throw new NpyFormatException(file, "malformed header: implausible header length " + hlen);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) hlen);
        readFully(ch, hb, preLen, file, "header dict");
        String text = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict = new DictParser(text, file).parseDict();

        Object descr = require(dict, "descr", file, text);
        Object fortran = require(dict, "fortran_order", file, text);
        Object shapeObj = require(dict, "shape", file, text);
        if (!(descr instanceof String d)) {
            throw new NpyFormatException(file, "unsupported dtype " + descr
                    + " (structured/record dtypes are not supported; header: " + text.strip() + ")");
        }
        if (!(fortran instanceof Boolean f)) {
            throw new NpyFormatException(file, "malformed header dict: 'fortran_order' must be True or False,"
                    + " got " + fortran + " in " + text.strip());
        }
        if (!(shapeObj instanceof List<?> dims)) {
            throw new NpyFormatException(file, "malformed header dict: 'shape' must be a tuple of ints, got "
                    + shapeObj + " in " + text.strip());
        }
        long[] shape = new long[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long v)) {
                throw new NpyFormatException(file, "invalid shape " + dims + ": dimension " + i
                        + " is not an integer");
            }
            if (v < 0) {
                throw new NpyFormatException(file, "invalid shape " + dims + ": dimension " + i + " is negative");
            }
            shape[i] = v;
            try {
                count = Math.multiplyExact(count, v);
            } catch (ArithmeticException e) {
                throw new NpyFormatException(file, "invalid shape " + dims + ": element count overflows");
            }
        }
        return new NpyHeader(major, minor, d, f, shape, preLen + hlen);
    }

    private static Object require(Map<String, Object> dict, String key, Path file, String text)
            throws NpyFormatException {
        if (!dict.containsKey(key)) {
            throw new NpyFormatException(file, "malformed header dict: missing key '" + key + "' in "
                    + text.strip());
        }
        return dict.get(key);
    }

    /** Reads from {@code pos} until {@code bb} is full or EOF; flips nothing. */
    static void readFully(FileChannel ch, ByteBuffer bb, long pos, Path file, String what) throws IOException {
        while (bb.hasRemaining()) {
            int r = ch.read(bb, pos);
            if (r < 0) {
                if (what.equals("file header")) {
                    return; // caller checks what it got
                }
                throw new NpyFormatException(file, "truncated file while reading " + what + " at offset " + pos);
            }
            pos += r;
        }
    }

    /** Minimal parser for the Python literals found in npy headers. */
    private static final class DictParser {
        private final String s;
        private final Path file;
        private int i;

        DictParser(String s, Path file) {
            this.s = s;
            this.file = file;
        }

        Map<String, Object> parseDict() throws NpyFormatException {
            skipWs();
            expect('{');
            Map<String, Object> map = new LinkedHashMap<>();
            skipWs();
            while (peek() != '}') {
                Object key = value();
                if (!(key instanceof String k)) {
                    throw error("dict key must be a string");
                }
                skipWs();
                expect(':');
                map.put(k, value());
                skipWs();
                if (peek() == ',') {
                    i++;
                    skipWs();
                } else if (peek() != '}') {
                    throw error("expected ',' or '}'");
                }
            }
            i++;
            skipWs();
            if (i != s.length()) {
                throw error("unexpected text after '}'");
            }
            return map;
        }

        private Object value() throws NpyFormatException {
            skipWs();
            char c = peek();
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, i + 1);
                if (end < 0) {
                    throw error("unterminated string");
                }
                String v = s.substring(i + 1, end);
                i = end + 1;
                return v;
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                i++;
                List<Object> items = new ArrayList<>();
                skipWs();
                while (peek() != close) {
                    items.add(value());
                    skipWs();
                    if (peek() == ',') {
                        i++;
                        skipWs();
                    } else if (peek() != close) {
                        throw error("expected ',' or '" + close + "'");
                    }
                }
                i++;
                return items;
            }
            if (c == '-' || c == '+' || Character.isDigit(c)) {
                int start = i++;
                while (i < s.length() && Character.isDigit(s.charAt(i))) {
                    i++;
                }
                String num = s.substring(start, i);
                if (i < s.length() && (s.charAt(i) == 'L' || s.charAt(i) == 'l')) {
                    i++; // Python 2 long suffix
                }
                try {
                    return Long.parseLong(num);
                } catch (NumberFormatException e) {
                    throw error("bad integer '" + num + "'");
                }
            }
            for (String word : new String[] {"True", "False", "None"}) {
                if (s.startsWith(word, i)) {
                    i += word.length();
                    return word.equals("None") ? null : Boolean.valueOf(word.equals("True"));
                }
            }
            throw error("unexpected character");
        }

        private void skipWs() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() throws NpyFormatException {
            if (i >= s.length()) {
                throw error("unexpected end of header");
            }
            return s.charAt(i);
        }

        private void expect(char c) throws NpyFormatException {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        private NpyFormatException error(String what) {
            return new NpyFormatException(file, "malformed header dict at character " + i + ": " + what
                    + " in " + s.strip());
        }
    }
}
