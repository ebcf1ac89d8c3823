package fr.maillage.analysis;

import java.util.List;
import org.elasticsearch.plugin.settings.ListSetting;
import org.elasticsearch.plugin.settings.StringSetting;

/** What every synonym filter reads: the rules, in Solr syntax, and the chain that analyzes them ({@link Chains}). */
public interface SynonymRuleSettings {
    @ListSetting(path = "synonyms")
    List<String> synonyms();

    @StringSetting(path = "analysis", defaultValue = Chains.FOLDED)
    String analysis();
}
