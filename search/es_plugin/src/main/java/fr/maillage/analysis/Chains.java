package fr.maillage.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.fr.FrenchLightStemFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.util.ElisionFilter;

/**
 * Lucene equivalents of the index analyzers that Maillage's search/analysis.py defines, used to parse synonym
 * rules exactly as the field's text is analyzed. Keep the two in step: a rule analyzed differently from the
 * text never matches. Every chain is: standard tokenizer, lowercase, French elision, ASCII folding, then
 *
 * <ul>
 *   <li>{@code folded}: nothing more;
 *   <li>{@code french}: the light French stemmer;
 *   <li>{@code english}: English possessive removal, KStem.
 * </ul>
 */
final class Chains {
    static final String FOLDED = "folded";
    static final String FRENCH = "french";
    static final String ENGLISH = "english";

    private Chains() {}

    static Analyzer analyzer(String chain) {
        if (!FOLDED.equals(chain) && !FRENCH.equals(chain) && !ENGLISH.equals(chain)) {
            throw new IllegalArgumentException(
                "unknown analysis chain [" + chain + "], expected [" + FOLDED + "], [" + FRENCH + "] or [" + ENGLISH + "]");
        }
        return new Analyzer() {
            @Override
            protected TokenStreamComponents createComponents(String fieldName) {
                Tokenizer tokenizer = new StandardTokenizer();
                TokenStream stream = new LowerCaseFilter(tokenizer);
                stream = new ElisionFilter(stream, FrenchAnalyzer.DEFAULT_ARTICLES);
                stream = new AsciiFoldingFilter(stream);
                if (FRENCH.equals(chain)) {
                    stream = new FrenchLightStemFilter(stream);
                } else if (ENGLISH.equals(chain)) {
                    stream = new KStemFilter(new EnglishPossessiveFilter(stream));
                }
                return new TokenStreamComponents(tokenizer, stream);
            }
        };
    }
}
