/** Svenska / English switch (login, setup and settings); the choice is remembered. */
import type { JSX } from "preact";
import { lang, setLang, t, type Lang } from "../i18n";

export function LangSwitch(props: { testid?: string }): JSX.Element {
  const current = lang();
  const choose = (l: Lang) => () => setLang(l);
  return (
    <div class="lang-switch" role="group" aria-label={t("settings.language")} data-testid={props.testid ?? "lang-switch"}>
      <button type="button" class="chip" aria-pressed={current === "sv"} lang="sv" onClick={choose("sv")} data-testid="lang-sv">
        Svenska
      </button>
      <button type="button" class="chip" aria-pressed={current === "en"} lang="en" onClick={choose("en")} data-testid="lang-en">
        English
      </button>
    </div>
  );
}
