"""Polish (first) and English texts of the Metroport MVNO pages, registered with the frame's catalogue.

The frame keys messages by their English text, and the catalogue is shared by every plugin, so a bare
word like "deleted" (already "usunięty", of a customer) cannot be given another Polish form here
without changing the host's pages. Words whose Polish form depends on what they describe (a SIM
account is neuter: "usunięte") are therefore keyed ``account:...``, ``type:...``, ``kind:...`` and
``run:...``, with an English entry so English pages read naturally too.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "account:active": "active",
    "account:blocked": "blocked",
    "account:deleted": "deleted",
    "account:unknown": "unknown",
    "type:call": "calls",
    "type:sms": "SMS",
    "type:mms": "MMS",
    "type:data": "data",
    "type:video": "video calls",
    "kind:ambiguous": "ambiguous",
    "kind:proposed": "bound by the next sync",
    "kind:taken": "customer already bound",
    "kind:unmatched": "no matching customer",
    "kind:insufficient": "no identifiers",
    "run:done": "done",
    "run:failed": "finished with failures",
    "run:error": "error",
    "run:running": "running",
}

PL: dict[str, str] = {
    "account:active": "aktywne",
    "account:blocked": "zablokowane",
    "account:deleted": "usunięte",
    "account:unknown": "nieznany",
    "type:call": "połączenia",
    "type:sms": "SMS",
    "type:mms": "MMS",
    "type:data": "transmisja danych",
    "type:video": "wideorozmowy",
    "kind:ambiguous": "niejednoznaczny",
    "kind:proposed": "zostanie powiązany przy następnej synchronizacji",
    "kind:taken": "klient ma już powiązanie",
    "kind:unmatched": "brak pasującego klienta",
    "kind:insufficient": "brak identyfikatorów",
    "run:done": "zakończony",
    "run:failed": "zakończony z błędami",
    "run:error": "błąd",
    "run:running": "w toku",
    "Metroport MVNO: unbound users": "Metroport MVNO: niepowiązani użytkownicy",
    "Metroport users that the customer synchronization does not bind, and why; the list is read live from "
    "Metroport and matched by the same rules as the sync.": (
        "Użytkownicy Metroport, których synchronizacja klientów nie powiąże, wraz z przyczyną; lista pochodzi "
        "na bieżąco z Metroport i jest dopasowywana tymi samymi regułami co synchronizacja."
    ),
    "Metroport could not be asked for its users": "Nie udało się pobrać użytkowników z Metroport",
    "Metroport users": "Użytkownicy Metroport",
    "Metroport user": "Użytkownik Metroport",
    "already bound": "już powiązani",
    "Identifiers shared by several LMS customers": "Identyfikatory wspólne dla kilku klientów LMS",
    "Show": "Pokaż",
    "Identifiers": "Identyfikatory",
    "ID card": "dowód osobisty",
    "LMS candidates": "Kandydaci w LMS",
    "Bind to another customer": "Powiąż z innym klientem",
    "same identifier as Metroport users": "ten sam identyfikator co użytkownicy Metroport",
    "the customer already has Metroport user": "klient ma już użytkownika Metroport",
    "Bind": "Powiąż",
    "customer ID": "ID klienta",
    "Every Metroport user is bound.": "Wszyscy użytkownicy Metroport są powiązani.",
    "Nothing matches the filter.": "Nic nie pasuje do filtra.",
    "Give an LMS customer number and a Metroport user number.": (
        "Podaj numer klienta LMS i numer użytkownika Metroport."
    ),
    "Nothing bound: Metroport did not answer ({error}).": "Nic nie powiązano: Metroport nie odpowiada ({error}).",
    "Nothing bound: ": "Nic nie powiązano: ",
    "Customer #{customer} is now bound to Metroport user #{user}.": (
        "Klient #{customer} jest teraz powiązany z użytkownikiem Metroport #{user}."
    ),
    "Metroport has no user #{user}.": "Metroport nie ma użytkownika #{user}.",
    "Service provider {name} is missing; run 'lmsplugins db upgrade'.": (
        "Brak dostawcy usług {name}; uruchom 'lmsplugins db upgrade'."
    ),
    "LMS customer #{customer} does not exist or is deleted.": "Klient LMS #{customer} nie istnieje lub jest usunięty.",
    "Metroport user #{user} is already bound to customer #{customer}.": (
        "Użytkownik Metroport #{user} jest już powiązany z klientem #{customer}."
    ),
    "Metroport user #{user} is already bound to customer #{other}; unbind it there first.": (
        "Użytkownik Metroport #{user} jest już powiązany z klientem #{other}; najpierw usuń tamto powiązanie."
    ),
    "Customer #{customer} is already bound to Metroport user #{held}; a second binding would be ambiguous for "
    "the sync. Remove the old one first (customer card, External IDs).": (
        "Klient #{customer} jest już powiązany z użytkownikiem Metroport #{held}; drugie powiązanie byłoby "
        "niejednoznaczne dla synchronizacji. Najpierw usuń stare (karta klienta, Zewnętrzne identyfikatory)."
    ),
    "A Metroport synchronization is running; try again in a moment.": (
        "Trwa synchronizacja Metroport; spróbuj ponownie za chwilę."
    ),
    "Service provider Metroport MVNO is missing; run 'lmsplugins db upgrade'.": (
        "Brak dostawcy usług Metroport MVNO; uruchom 'lmsplugins db upgrade'."
    ),
    "Binding": "Powiązanie",
    "not bound to Metroport": "niepowiązany z Metroport",
    "bind by hand": "powiąż ręcznie",
    "bound": "powiązany",
    "ambiguous: several Metroport users; the sync skips this customer": (
        "niejednoznaczne: kilku użytkowników Metroport; synchronizacja pomija tego klienta"
    ),
    "Last billing import": "Ostatni import bilingów",
    "records": "rekordów",
    "never": "nigdy",
    "Mobile accounts": "Konta komórkowe",
    "Number": "Numer",
    "Metroport account": "Konto Metroport",
    "Billing records": "Bilingi",
    "No Metroport accounts.": "Brak kont Metroport.",
    "Usage this month": "Zużycie w tym miesiącu",
    "Records": "Rekordy",
    "Quantity": "Ilość",
    "Price": "Cena",
    "No records this month.": "Brak rekordów w tym miesiącu.",
    "Total": "Razem",
    "Billing records of {login}": "Bilingi konta {login}",
    "The end is before the start.": "Koniec jest przed początkiem.",
    "Not a date (YYYY-MM-DD): {value}": "To nie jest data (RRRR-MM-DD): {value}",
    "From": "Od",
    "To": "Do",
    "Direction": "Kierunek",
    "outgoing": "wychodzące",
    "incoming": "przychodzące",
    "Start": "Początek",
    "Caller": "Dzwoniący",
    "Callee": "Wybierany",
    "Category": "Kategoria",
    "No records match.": "Brak pasujących rekordów.",
    # job counters (plugin.COUNTER_LABELS)
    "Users bound to a customer in this run": "Użytkownicy powiązani z klientem w tym uruchomieniu",
    "Users already bound": "Użytkownicy już powiązani",
    "Users not bound (no matching customer)": "Użytkownicy niepowiązani (brak pasującego klienta)",
    "Users matching several customers": "Użytkownicy pasujący do kilku klientów",
    "SIM accounts of unbound users (skipped)": "Konta SIM niepowiązanych użytkowników (pominięte)",
    "SIM accounts held by another customer": "Konta SIM należące do innego klienta",
    "Numbers linked to the MVNO tariff": "Numery powiązane z taryfą MVNO",
    "Numbers whose customer has no MVNO tariff": "Numery, których klient nie ma taryfy MVNO",
    "Billing records stored": "Zapisane rekordy billingowe",
    "Billing records read from the API": "Rekordy billingowe pobrane z API",
    "Billing records without an account (not imported)": "Rekordy billingowe bez konta (niezaimportowane)",
    "Billing records that could not be stored": "Rekordy billingowe, których nie udało się zapisać",
    "API requests": "Zapytania do API",
    # the plugin and its settings (plugin.py)
    "Mobile (MVNO) subscribers of Metroport MMSC: customer binding, SIM accounts, billing records.": (
        "Abonenci komórkowi (MVNO) Metroport MMSC: powiązanie klientów, konta SIM, rekordy billingowe."
    ),
    "Metroport MVNO": "Metroport MVNO",
    "API base URL": "Bazowy adres URL API",
    "API login": "Login API",
    "API password": "Hasło API",
    "Tariff tag of MVNO tariffs: their customers' records are imported": (
        "Znacznik taryf MVNO: importowane są rekordy klientów z tymi taryfami"
    ),
    "Verify the API's TLS certificate (the PHP plugin never did)": (
        "Sprawdzaj certyfikat TLS API (wtyczka PHP nigdy tego nie robiła)"
    ),
    "Time zone of the API's dates (period bounds and call dates)": (
        "Strefa czasowa dat API (granice okresów i daty połączeń)"
    ),
    "Link synchronized numbers to the customer's MVNO-tagged phone tariff assignment, so lms-payments invoices "
    "the imported records": (
        "Powiąż zsynchronizowane numery z przypisaniem taryfy telefonicznej klienta oznaczonej jako MVNO, aby "
        "lms-payments fakturował zaimportowane rekordy"
    ),
    # job counters without a label (the name spelled out)
    "Accounts bind": "Konta powiązane",
    "Accounts create": "Konta utworzone",
    "Accounts update": "Konta zaktualizowane",
    "Accounts delete": "Konta usunięte",
    "Accounts keep": "Konta bez zmian",
    "Accounts skip": "Konta pominięte",
    "Accounts unknown status": "Konta o nieznanym stanie",
    "Customers bad extid": "Klienci z nieliczbowym identyfikatorem zewnętrznym",
    "Numbers ambiguous tariff": "Numery z niejednoznaczną taryfą",
    "Pricelist uploaded": "Cennik wysłany",
    "Pricelist not uploaded": "Cennik niewysłany",
    "Cdrs deleted": "Usunięte rekordy połączeń",
    # job messages (jobs.py); "{...}" is a value of the run
    "customer #{customer} is deleted, missing or has no TEN/SSN/ICN; nothing to bind": (
        "klient #{customer} jest usunięty, nie istnieje albo nie ma NIP/PESEL/numeru dowodu; nie ma czego powiązać"
    ),
    "Metroport user {name} (#{user}) not bound: LMS customers {ids} share {kind} {value}; bind the right one by "
    "hand (customer card, External IDs, provider {provider}, ext id {extid})": (
        "Użytkownik Metroport {name} (#{user}) nie został powiązany: klienci LMS {ids} mają ten sam {kind} {value}; "
        "powiąż właściwego ręcznie (karta klienta, Identyfikatory zewnętrzne, dostawca {provider}, "
        "identyfikator {extid})"
    ),
    "Metroport user {name} (#{user}) not bound to LMS customer #{customer}: Metroport users {ids} have the same "
    "{kind} {value}": (
        "Użytkownik Metroport {name} (#{user}) nie został powiązany z klientem LMS #{customer}: użytkownicy "
        "Metroport {ids} mają ten sam {kind} {value}"
    ),
    "customer #{customer} is not bound to exactly one Metroport user; no accounts to synchronize": (
        "klient #{customer} nie jest powiązany z dokładnie jednym użytkownikiem Metroport; brak kont do synchronizacji"
    ),
    "customer #{customer} has Metroport ext id {extid}, not a numeric user id; bind again": (
        "klient #{customer} ma identyfikator Metroport {extid}, a nie liczbowy identyfikator użytkownika; "
        "powiąż go ponownie"
    ),
    "Metroport user {user} is bound to several LMS customers ({ids}); their SIM accounts are skipped": (
        "Użytkownik Metroport {user} jest powiązany z kilkoma klientami LMS ({ids}); ich konta SIM pominięto"
    ),
    "Customer #{customer}: {error}; account left as it is": "Klient #{customer}: {error}; konto pozostawiono bez zmian",
    "Customer #{customer}: MVNO account #{account} not added: number {number} belongs to LMS account #{holder} of "
    "customer #{owner}": (
        "Klient #{customer}: nie dodano konta MVNO #{account}: numer {number} należy do konta LMS #{holder} "
        "klienta #{owner}"
    ),
    "Customer #{customer}: number {number} of MVNO account #{account} belongs to LMS account #{holder}; number of "
    "account #{kept} left as it is": (
        "Klient #{customer}: numer {number} konta MVNO #{account} należy do konta LMS #{holder}; numer konta "
        "#{kept} pozostawiono bez zmian"
    ),
    "Customer #{customer} has {count} {tag}-tagged phone tariff assignments ({ids}); numbers not linked, link them "
    "by hand": (
        "Klient #{customer} ma kilka przypisań taryf telefonicznych ze znacznikiem {tag} ({count}: {ids}); numerów nie "
        "powiązano, powiąż je ręcznie"
    ),
    "{count} customer(s) skipped: their Metroport ext id is not a numeric user id (bound before the PHP plugin's "
    "1.1.0?): {ids}; bind them again with --customers": (
        "pominięci klienci ({count}): ich identyfikator Metroport nie jest liczbowym identyfikatorem użytkownika "
        "(powiązani przed wersją 1.1.0 wtyczki PHP?): {ids}; powiąż ich ponownie przez --customers"
    ),
    'Fatal error: no customers with "{tag}"-tagged tariffs assigned!': (
        'Błąd krytyczny: żaden klient nie ma przypisanej taryfy ze znacznikiem "{tag}"!'
    ),
    "traffic types unknown to LMS: {types}; their records are skipped": (
        "rodzaje ruchu nieznane w LMS: {types}; ich rekordy są pomijane"
    ),
    "{count} billing record(s) not imported: their number has no LMS account of {provider} for the customer "
    "(run --accounts first?), e.g. {examples}": (
        "niezaimportowane rekordy billingowe ({count}): ich numer nie ma u klienta konta LMS dostawcy {provider} "
        "(najpierw --accounts?), np. {examples}"
    ),
    "{count} billing record(s) could not be stored and were skipped: {examples}": (
        "rekordy billingowe, których nie dało się zapisać (pominięte): {count}: {examples}"
    ),
    # permissions (plugin.py)
    "Metroport MVNO: read": "Metroport MVNO: odczyt",
    "Metroport MVNO: manage (synchronize, upload price lists)": (
        "Metroport MVNO: zarządzanie (synchronizacja, wysyłanie cenników)"
    ),
    # connection test steps (operator.py)
    "read the list of users": "odczytano listę użytkowników",
    "{count} user(s)": "użytkowników: {count}",
}
