package dev.curvlab.nn.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Strict parser for the model {@code .json} format described in {@link ModelFile}. Reads the
 * token stream (not a tree) so that every error can name the JSON path and the line and column of
 * the offending token.
 *
 * <p>Package-private: used by {@link ModelFile#parseSpec(String, String)}.
 */
final class ModelSpecReader {
    /** Keys allowed at the top level, in the order {@link ModelFile} writes them. */
    static final List<String> TOP_KEYS = List.of("name", "input", "layers", "loss");
    /** Keys allowed in a layer object. */
    static final List<String> LAYER_KEYS = List.of("type", "units", "filters", "kernel", "stride", "padding", "activation");
    /** Layer types and the keys each one allows (besides "type"). */
    static final java.util.Map<String, List<String>> TYPE_KEYS = java.util.Map.of(
            "dense", List.of("units", "activation"),
            "conv2d", List.of("filters", "kernel", "stride", "padding", "activation"),
            "maxpool2d", List.of("kernel", "stride"),
            "avgpool2d", List.of("kernel", "stride"),
            "flatten", List.of());
    private static final String TYPES = "dense, conv2d, maxpool2d, avgpool2d, flatten";

    private static final JsonFactory FACTORY = new JsonFactory();
    private static final String LAYER_EXAMPLE = "{\"type\": \"dense\", \"units\": 32, \"activation\": \"tanh\"}";

    private final String source;
    private final JsonParser p;

    private ModelSpecReader(String source, JsonParser p) {
        this.source = source;
        this.p = p;
    }

    /** Parses {@code json}; {@code source} (a path or resource name) starts every error message. */
    static ModelSpec parse(String json, String source) throws ModelFormatException {
        String text = !json.isEmpty() && json.charAt(0) == '\uFEFF' ? json.substring(1) : json;
        try (JsonParser p = FACTORY.createParser(text)) {
            return new ModelSpecReader(source, p).root();
        } catch (ModelFormatException e) {
            throw e;
        } catch (StreamReadException e) {
            throw new ModelFormatException(source, lineColumn(e.getLocation()), "invalid JSON: " + jacksonProblem(e));
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from a string", e); // no I/O happens on a String
        }
    }

    private ModelSpec root() throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw error("", p.currentLocation(), "the file is empty; expected a JSON object such as {\"input\": 10, \"layers\": ["
                    + LAYER_EXAMPLE + "], \"loss\": \"mse\"}");
        }
        if (t != JsonToken.START_OBJECT) {
            throw error("", "expected a JSON object {\"input\": ..., \"layers\": [...]}, got " + got());
        }
        JsonLocation start = p.currentTokenLocation();
        Set<String> seen = new HashSet<>();
        long[] input = null;
        List<Draft> layers = null;
        Loss loss = null;
        String lossPath = null;
        JsonLocation lossLocation = null;
        String name = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            checkKey(key, key, seen, TOP_KEYS, "at the top level");
            p.nextToken();
            switch (key) {
                case "input" -> {
                    input = p.currentToken() == JsonToken.START_ARRAY ? imageShape(key) : new long[] {positiveInt(key)};
                }
                case "layers" -> layers = layers();
                case "loss" -> {
                    lossPath = key;
                    lossLocation = p.currentTokenLocation();
                    String s = string(key, true);
                    loss = s == null ? null : parseLoss(key, s);
                }
                default -> name = string(key, true);
            }
        }
        JsonToken after = p.nextToken();
        if (after != null) {
            throw error("", "unexpected " + got() + " after the closing '}' of the model object");
        }
        if (input == null) {
            throw error("", start, "missing required key \"input\" (the number of input features, e.g. \"input\": 10, or an image"
                    + " shape [C, H, W])");
        }
        if (layers == null) {
            throw error("", start, "missing required key \"layers\" (a list of layers such as " + LAYER_EXAMPLE + ")");
        }
        Sequential.Builder b = input.length == 3 ? Sequential.imageBuilder((int) input[0], (int) input[1], (int) input[2])
                : Sequential.builder((int) input[0]);
        for (int l = 0; l < layers.size(); l++) {
            Draft d = layers.get(l);
            try {
                d.addTo(b);
            } catch (IllegalArgumentException e) {
                throw error("layers[" + l + "]", d.location(), e.getMessage() + " (input " + java.util.Arrays.toString(input) + ")");
            }
        }
        Sequential model;
        try {
            model = b.build();
        } catch (IllegalArgumentException e) {
            throw error("layers", start, e.getMessage());
        }
        String mismatch = ModelSpec.lossMismatch(model, loss);
        if (mismatch != null) {
            throw error(lossPath, lossLocation, mismatch + " (set by layers[" + (layers.size() - 1) + "].units)");
        }
        return new ModelSpec(model, loss, name);
    }

    /** One parsed layer object: its type, the values it set (null = unset) and where it starts. */
    private record Draft(String type, int units, int filters, int[] kernel, int[] stride, int[] padding, Activation activation,
            JsonLocation location) {
        void addTo(Sequential.Builder b) {
            switch (type) {
                case "dense" -> b.dense(units, activation);
                case "conv2d" -> b.conv2d(filters, kernel, stride, padding, activation);
                case "maxpool2d" -> b.maxPool2d(kernel, stride);
                case "avgpool2d" -> b.avgPool2d(kernel, stride);
                default -> b.flatten();
            }
        }
    }

    private List<Draft> layers() throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw error("layers", "must be a list of layers such as [" + LAYER_EXAMPLE + "], got " + got());
        }
        JsonLocation start = p.currentTokenLocation();
        List<Draft> out = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            out.add(layer("layers[" + out.size() + "]"));
        }
        if (out.isEmpty()) {
            throw error("layers", start, "needs at least one layer, e.g. [" + LAYER_EXAMPLE + "]");
        }
        return out;
    }

    private Draft layer(String path) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw error(path, "must be a layer object such as " + LAYER_EXAMPLE + ", got " + got());
        }
        JsonLocation start = p.currentTokenLocation();
        Set<String> seen = new HashSet<>();
        java.util.Map<String, JsonLocation> where = new java.util.HashMap<>();
        String type = null;
        int units = 0;
        int filters = 0;
        int[] kernel = null;
        int[] stride = null;
        int[] padding = null;
        Activation activation = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            String at = path + "." + key;
            checkKey(key, at, seen, LAYER_KEYS, "in a layer");
            where.put(key, p.currentTokenLocation());
            p.nextToken();
            switch (key) {
                case "type" -> {
                    type = string(at, false).trim().toLowerCase(Locale.ROOT);
                    if (!TYPE_KEYS.containsKey(type)) {
                        throw error(at, "unknown layer type '" + p.getText() + "'; layer types: " + TYPES);
                    }
                }
                case "units" -> units = positiveInt(at);
                case "filters" -> filters = positiveInt(at);
                case "kernel" -> kernel = intPair(at, 1);
                case "stride" -> stride = intPair(at, 1);
                case "padding" -> padding = intPair(at, 0);
                default -> {
                    String s = string(at, false);
                    try {
                        activation = Activation.parse(s);
                    } catch (IllegalArgumentException e) {
                        throw error(at, e.getMessage());
                    }
                }
            }
        }
        if (type == null) {
            throw error(path, start, "missing required key \"type\" (one of " + TYPES + ")");
        }
        List<String> allowed = TYPE_KEYS.get(type);
        for (String key : seen) {
            if (!key.equals("type") && !allowed.contains(key)) {
                throw error(path + "." + key, where.get(key), "a " + type + " layer has no \"" + key + "\"; its keys: type"
                        + (allowed.isEmpty() ? "" : ", " + String.join(", ", allowed)));
            }
        }
        switch (type) {
            case "dense" -> {
                require(path, start, units != 0, "units", "the layer's output width, e.g. \"units\": 32");
                require(path, start, activation != null, "activation", "e.g. \"tanh\"; \"identity\" for none");
            }
            case "conv2d" -> {
                require(path, start, filters != 0, "filters", "the number of output channels, e.g. \"filters\": 6");
                require(path, start, kernel != null, "kernel", "e.g. \"kernel\": [3, 3]");
                require(path, start, activation != null, "activation", "e.g. \"tanh\"; \"identity\" for none");
            }
            case "maxpool2d", "avgpool2d" -> require(path, start, kernel != null, "kernel", "e.g. \"kernel\": [2, 2]");
            default -> { }
        }
        return new Draft(type, units, filters, kernel, stride, padding, activation, start);
    }

    private void require(String path, JsonLocation start, boolean present, String key, String example) throws ModelFormatException {
        if (!present) {
            throw error(path, start, "missing required key \"" + key + "\" (" + example + ")");
        }
    }

    /** The current token as a list of two integers >= min. */
    private int[] intPair(String path, int min) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw error(path, "must be a list of two integers such as [2, 2], got " + got());
        }
        int[] v = new int[2];
        int k = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (k == 2 || p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < min) {
                throw error(path, "must be a list of two integers >= " + min + " such as [2, 2], got " + (k == 2 ? "more than two" : got()));
            }
            v[k++] = p.getIntValue();
        }
        if (k != 2) {
            throw error(path, "must be a list of two integers >= " + min + " such as [2, 2], got " + k);
        }
        return v;
    }

    /** The current token (a list) as an image shape [C, H, W] of positive integers. */
    private long[] imageShape(String path) throws IOException {
        long[] v = new long[3];
        int k = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (k == 3 || p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 1) {
                throw error(path, "must be a positive integer or an image shape [C, H, W] of three positive integers, got "
                        + (k == 3 ? "more than three" : got()));
            }
            v[k++] = p.getIntValue();
        }
        if (k != 3) {
            throw error(path, "must be a positive integer or an image shape [C, H, W] of three positive integers, got " + k + " values");
        }
        return v;
    }

    /** Rejects duplicate and unknown keys (with a spelling suggestion); the parser is on the key. */
    private void checkKey(String key, String path, Set<String> seen, List<String> allowed, String where)
            throws ModelFormatException {
        if (!allowed.contains(key)) {
            String hint = closest(key, allowed);
            throw error(path, "unknown key \"" + key + "\" " + where + (hint == null ? "" : " (did you mean \"" + hint + "\"?)")
                    + "; allowed keys: " + String.join(", ", allowed));
        }
        if (!seen.add(key)) {
            throw error(path, "duplicate key \"" + key + "\"");
        }
    }

    /** The current token as a positive int. */
    private int positiveInt(String path) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT) {
            if (p.getNumberType() != JsonParser.NumberType.INT) {
                throw error(path, "must be a positive integer, got " + p.getText() + ", which is too large");
            }
            int v = p.getIntValue();
            if (v < 1) {
                throw error(path, "must be a positive integer, got " + v);
            }
            return v;
        }
        throw error(path, "must be a positive integer, got " + got());
    }

    /** The current token as a string ({@code null} for JSON null where {@code nullable}). */
    private String string(String path, boolean nullable) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t == JsonToken.VALUE_NULL && nullable) {
            return null;
        }
        throw error(path, "must be a string, got " + got());
    }

    private Loss parseLoss(String path, String s) throws ModelFormatException {
        try {
            return Losses.parse(s);
        } catch (IllegalArgumentException e) {
            throw error(path, e.getMessage());
        }
    }

    /** Describes the current token for "got ..." messages. */
    private String got() throws IOException {
        JsonToken t = p.currentToken();
        return switch (t) {
            case VALUE_STRING -> {
                String s = p.getText();
                yield "the string \"" + (s.length() > 40 ? s.substring(0, 37) + "..." : s) + "\"";
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + p.getText();
            case VALUE_TRUE, VALUE_FALSE -> "the boolean " + p.getText();
            case VALUE_NULL -> "null";
            case START_OBJECT -> "an object";
            case START_ARRAY -> "a list";
            default -> t.asString() == null ? t.name() : "'" + t.asString() + "'";
        };
    }

    private ModelFormatException error(String path, String problem) {
        return error(path, p.currentTokenLocation(), problem);
    }

    private ModelFormatException error(String path, JsonLocation at, String problem) {
        return new ModelFormatException(source, (path.isEmpty() ? "top level" : path) + " (" + lineColumn(at) + ")", problem);
    }

    /** Jackson's message without its "[Source: ...; line: 2, column: 12]" noise. */
    private static String jacksonProblem(StreamReadException e) {
        String m = String.valueOf(e.getOriginalMessage());
        return m.replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2").replace('\n', ' ');
    }

    private static String lineColumn(JsonLocation at) {
        return at == null ? "unknown position" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /** The allowed key within edit distance 2 of {@code key} (case-insensitive), or null. */
    private static String closest(String key, List<String> allowed) {
        String best = null;
        int bestDistance = 3;
        for (String a : allowed) {
            int d = distance(key.toLowerCase(Locale.ROOT), a);
            if (d < bestDistance) {
                best = a;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] tmp = prev;
            prev = cur;
            cur = tmp;
        }
        return prev[b.length()];
    }
}
