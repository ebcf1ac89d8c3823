package fr.maillage.analysis;

import java.io.IOException;
import java.util.Arrays;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.util.ArrayUtil;

/**
 * Lucene's ASCII folding ({@code ASCIIFoldingFilter}, without the original token), read from a table.
 *
 * <p>Lucene folds with one {@code switch} over the 1,242 characters it changes, a method too large for the JVM to
 * compile: it stays interpreted, and cost a tenth of the node's indexing CPU (every French word with an accent goes
 * through it in every analysis of the text). The table is filled from that same method, one character at a time
 * (it maps each character on its own), so the output is the same.
 */
final class AsciiFoldingFilter extends TokenFilter {
    /** The folded form of each character, or {@code null} when it folds to itself. */
    private static final char[][] FOLDED = table();

    private final CharTermAttribute termAtt = addAttribute(CharTermAttribute.class);
    private char[] output = new char[64];

    AsciiFoldingFilter(TokenStream input) {
        super(input);
    }

    private static char[][] table() {
        char[][] table = new char[Character.MAX_VALUE + 1][];
        char[] in = new char[1];
        char[] out = new char[8]; // Lucene writes at most four characters for one ("⑽" -> "(10)")
        for (int c = 0x80; c <= Character.MAX_VALUE; c++) {
            in[0] = (char) c;
            int length = org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter.foldToASCII(in, 0, out, 0, 1);
            if (length != 1 || out[0] != c) {
                table[c] = Arrays.copyOf(out, length);
            }
        }
        return table;
    }

    @Override
    public boolean incrementToken() throws IOException {
        if (!input.incrementToken()) {
            return false;
        }
        char[] buffer = termAtt.buffer();
        int length = termAtt.length();
        for (int i = 0; i < length; i++) {
            if (buffer[i] >= '\u0080' && FOLDED[buffer[i]] != null) {
                fold(buffer, length, i);
                break;
            }
        }
        return true;
    }

    /** Folds the term from {@code first}, the first character that changes. */
    private void fold(char[] buffer, int length, int first) {
        output = ArrayUtil.grow(output, 4 * length);
        System.arraycopy(buffer, 0, output, 0, first);
        int position = first;
        for (int i = first; i < length; i++) {
            char c = buffer[i];
            char[] folded = c < '\u0080' ? null : FOLDED[c];
            if (folded == null) {
                output[position++] = c;
            } else {
                System.arraycopy(folded, 0, output, position, folded.length);
                position += folded.length;
            }
        }
        termAtt.copyBuffer(output, 0, position);
    }
}
