app-name = Lots
app-tagline = Hembesök och handlingsplaner för boendestöd

## Status line
status-synced = Synkat
status-waiting = { $count ->
    [one] 1 ändring väntar
   *[other] { $count } ändringar väntar
}
status-offline-since = Offline sedan { $time }
status-connecting = Ansluter…
status-conflicts = { $count ->
    [one] 1 konflikt att granska
   *[other] { $count } konflikter att granska
}
status-saving = Sparar…
status-saved = Sparat på enheten
status-new-version = Ny version finns
status-reload = Ladda om

## Sign in
signin-title = Logga in
signin-username = Användarnamn
signin-password = Lösenord
signin-submit = Logga in
signin-with = Logga in med { $provider }
signin-or-password = eller med användarnamn och lösenord för Lots:
signin-offline = Du behöver vara uppkopplad första gången du loggar in.
signin-failed = Fel användarnamn eller lösenord.
signin-error = Inloggningen misslyckades: { $error }
signin-throttled = För många misslyckade inloggningar. Försök igen om { $minutes ->
    [one] en minut
   *[other] { $minutes } minuter
}.
status-session-ended = Inloggningen har gått ut – logga in igen för att synka
signin-again-title = Logga in igen
wiped-device-revoked = En administratör har spärrat den här enheten. Allt som Lots hade sparat på den är raderat.
wiped-user-disabled = En administratör har stängt av ditt konto. Allt som Lots hade sparat på den här enheten är raderat.
shut-out-kept = En administratör har spärrat den här enheten eller ditt konto. Allt på enheten som servern redan har är raderat. Det som ännu inte nått servern finns kvar här, så att inget som skrivits går förlorat: kontakta din arbetsledare.
signin-again-why = Servern känner inte längre igen din inloggning på den här enheten. Allt du har sparat finns kvar här och synkas när du har loggat in igen.
signin-again-other-person = Du loggade in hos inloggningstjänsten som någon annan. Den här enheten är { $name }s: ladda om sidan och logga in igen som { $name }.
signin-again-offline = Du är offline. Logga in igen när du har täckning; allt finns kvar på enheten.
boot-app-not-loaded = Du är inloggad, men appen kunde inte hämtas: { $error }. Ladda om sidan när du har täckning.
boot-welcome = Välkommen, { $name }!
boot-loading = Lots hämtas. Det tar en stund första gången på en långsam uppkoppling.
signout = Logga ut
signout-unsynced = { $count ->
    [one] 1 hushåll har ändringar som inte har synkats. Anslut och vänta tills det står "Synkat" innan du loggar ut, annars försvinner de.
   *[other] { $count } hushåll har ändringar som inte har synkats. Anslut och vänta tills det står "Synkat" innan du loggar ut, annars försvinner de.
}
language = Språk

## Navigation
nav-households = Mina hushåll
nav-today = Idag och veckan
nav-back = Tillbaka

## Households
households-search = Sök namn eller adress
households-none = Inga hushåll på enheten ännu.
households-loading = Hämtar hushållen…
households-next-visit = Nästa besök { $when }
households-no-next-visit = Inget besök bokat
households-overdue = { $count ->
    [one] 1 uppföljning försenad
   *[other] { $count } uppföljningar försenade
}
households-people = { $count ->
    [one] 1 person
   *[other] { $count } personer
}
households-closed = Avslutat

## Today
today-title = Planerade besök
today-none = Inga planerade besök de närmaste sju dagarna.
today-record = Dokumentera

## Household
household-members = Personer
household-age = { $age } år
household-languages = Språk: { $languages }
household-interpreter = Behöver tolk: { $language }
household-establishment-end = Etableringstiden slutar { $date }
household-outside = Utanför målgruppen: { $reasons }
household-plan = Handlingsplan
household-plan-empty = Inga mål ännu.
household-visits = Besök
household-visits-empty = Inga besök ännu.
household-follow-ups = Uppföljningar och hänvisningar
household-follow-ups-empty = Inga öppna uppföljningar.
household-record-visit = Dokumentera besök
household-book-visit = Boka besök
household-close-case = Avsluta ärendet
household-conflicts = Fält med två värden
household-housing = { $form }, inflyttad { $date }
household-due = senast { $date }
household-done = klar { $date }
household-now = Nu
household-next = Härnäst

outside-born-in-eea = född inom EU/EES
outside-no-permit-date = datum för uppehållstillstånd saknas
outside-permit-not-granted = uppehållstillstånd ännu inte beviljat
outside-period-ended = mer än 36 månader sedan uppehållstillstånd
outside-age = { $age } år, utanför 18–64
outside-not-registered = inte folkbokförd i stadsdelen
## Visit form
visit-title = Besök
visit-present = Närvarande
visit-interpreter = Tolk
visit-interpreter-none = Ingen tolk
visit-interpreter-language = Tolkspråk
visit-duration = Längd (minuter)
visit-topics = Ämnen
visit-notes = Anteckningar
visit-follow-up = Uppföljning
visit-follow-up-description = Vad ska göras
visit-follow-up-owner = Vem
visit-follow-up-due = Senast
visit-next = Boka nästa besök
visit-next-none = Boka inte nu
visit-save = Spara besöket
visit-saved = Besöket är sparat på enheten.
visit-cancel = Avbryt
visit-error = Besöket kunde inte sparas: { $error }

## Plan editing
plan-goal-status = Målets status
plan-steps = { $count ->
    [one] 1 steg
   *[other] { $count } steg
}
plan-add-step = Lägg till steg
plan-step-description = Nytt steg
plan-step-owner = Vem gör det
plan-step-due = Klart senast
plan-step-overdue = försenat
plan-add-goal = Lägg till mål
plan-goal-member = För vem
plan-step-no-staff = Steget kan inte bli ditt: ingen är inloggad på enheten. Logga in igen.
plan-goal-area = Område
plan-goal-description = Målet med hushållets egna ord
plan-notes = Anteckningar om planen
plan-notes-save = Spara anteckningen
plan-error = Kunde inte sparas: { $error }

## Closing a case
close-reason = Anledning
close-date = Datum
close-submit = Avsluta ärendet
close-closed = Avslutat { $date }: { $reason }
close-reopen = Öppna ärendet igen

## Conflicts
conflict-title = Två värden för samma fält
conflict-choose = Välj
conflict-by = { $author }, { $time }
conflict-this-device = den här enheten
conflict-other-device = en annan enhet

## Codes (the keys are core's codes)

housing-transitional_housing = Genomgångsbostad
housing-municipal_contract = Kommunkontrakt
housing-social_contract = Socialt kontrakt
housing-other_contract = Annat kontrakt
housing-own_housing = Eget boende

route-assigned = Anvisad
route-quota_refugee = Kvotflykting
route-family_reunification = Anknytning
route-unaccompanied_minor = Ensamkommande
route-unaccompanied_minor_family = Familj till ensamkommande
route-own_housing = Eget boende (EBO)

case-active = Aktivt
case-closed = Avslutat

close-work = Arbete
close-studies = Studier
close-moved = Flyttat
close-other = Annat

gender-female = Kvinna/flicka
gender-male = Man/pojke
gender-other = Annat

visit-status-planned = Planerat
visit-status-done = Genomfört
visit-status-cancelled = Inställt
visit-status-no_show = Uteblev

mode-in_person = På plats
mode-phone = Telefon

topic-letters = Läsa och förklara brev
topic-forms = Blanketter och ansökningar
topic-housing_search = Bostadssökande
topic-budget = Budget
topic-online_bills = Betala räkningar digitalt
topic-home_equipment_loan = Hemutrustningslån
topic-home_insurance = Hemförsäkring
topic-bank_account = Bankkonto
topic-tenancy = Hyresgäst: rättigheter och skyldigheter
topic-society = Hur samhället fungerar
topic-agencies = Rätt myndighet
topic-migration_agency = Migrationsverket
topic-tax_agency = Skatteverket
topic-social_insurance = Försäkringskassan
topic-employment_service = Arbetsförmedlingen
topic-csn = CSN
topic-sfi = SFI
topic-civic_orientation = Samhällsorientering
topic-adult_education = Vuxenutbildning
topic-school = Skola och förskola
topic-health_care = Hälso- och sjukvård
topic-leisure = Fritid och föreningsliv
topic-mentor = Mentor

agency-migration_agency = Migrationsverket
agency-tax_agency = Skatteverket
agency-social_insurance = Försäkringskassan
agency-employment_service = Arbetsförmedlingen
agency-csn = CSN
agency-social_services = Socialtjänsten
agency-adult_education = Vuxenutbildningen
agency-school = Skolan
agency-health_care = Vården
agency-landlord = Hyresvärden
agency-bank = Banken
agency-other = Annan

owner-member = Personen själv
owner-staff = Jag
owner-agency = Myndighet

goal-own_income = Egen försörjning
goal-work_or_studies = Arbete eller studier
goal-sfi = SFI
goal-permanent_home = Stadigvarande boende
goal-health = Hälsa
goal-social_participation = Socialt nätverk och delaktighet
goal-agency_registrations = Registreringar hos myndigheter

goal-status-not_started = Inte påbörjat
goal-status-in_progress = Pågår
goal-status-stalled = Står still
goal-status-reached = Uppnått
goal-status-dropped = Avbrutet

step-status-open = Öppet
step-status-done = Klart
step-status-cancelled = Inställt

## Field names, for conflicts
field-status = Status
field-description = Beskrivning
field-due_on = Klart senast
field-address = Adress
field-unit = Lägenhet
field-housing_form = Boendeform
field-arrival_route = Mottagningsform
field-assigned_staff = Ansvarig
field-name = Namn
field-phone = Telefon
field-duration_minutes = Längd (minuter)
field-planned_at = Tid
field-interpreter_language = Tolkspråk
field-area = Område
field-in-goal = Målet ”{ $name }”
field-in-step = Steget ”{ $name }”
field-in-visit = Besöket { $when }
field-district = Stadsdel
field-arrived_on = Ankom
field-opened_on = Ärendet öppnades
field-close_reason = Anledning till avslut
field-closed_on = Ärendet avslutades
field-birth_date = Födelsedatum
field-gender = Kön
field-residence_permit_on = Uppehållstillstånd
field-born_outside_eea = Född utanför EU/EES
field-registered_in_district = Folkbokförd i stadsdelen
field-languages = Språk
field-staff = Personal
field-interpreter_mode = Tolkning
field-topics = Ämnen
field-notes = Anteckningar
field-owner_kind = Vem gör det
field-owner = Ansvarig
field-agency = Myndighet
field-done_on = Klart
field-set_on = Satt
field-reached_on = Uppnått

## The supervisor's desk
nav-desk = Översikt
nav-workload = Arbetsbelastning
nav-plans = Planer
nav-report = Rapport
nav-log = Logg
desk-directory-problem = Användare och stadsdelar kunde inte hämtas: { $error }
desk-not-loaded = Skrivbordets app kunde inte laddas på den här datorn. Allt som är sparat här finns kvar: ladda om sidan när nätverket fungerar igen.
desk-csv = CSV
desk-csv-not-logged = Exporten sparades inte: den måste loggas först, och det gick inte ({ $error }). Försök igen när datorn är ansluten.
desk-csv-of = Ladda ner { $what } som CSV
desk-reading = Läser hushållen som de var då: { $done } av { $of }…
desk-unreadable = { $count ->
    [one] 1 hushåll kunde inte läsas och saknas i siffrorna.
   *[other] { $count } hushåll kunde inte läsas och saknas i siffrorna.
}
desk-overview = Alla hushåll
desk-district = Stadsdel
desk-staff = Personal
desk-status = Status
desk-sort = Sortera efter
desk-sort-overdue = Försenade uppföljningar
desk-sort-next_visit = Nästa besök
desk-sort-last_visit = Senaste besök
desk-any-district = Alla stadsdelar
desk-any-staff = All personal
desk-any-status = Alla
desk-any-housing = Alla boendeformer
desk-any-route = Alla mottagningsformer
desk-nobody = Ingen
desk-showing = Visar { $shown } av { $matching } hushåll som matchar ({ $total } totalt).
desk-show-all = Visa alla { $count }
desk-household = Hushåll
desk-next-visit = Nästa besök
desk-last-visit = Senaste besök
desk-overdue = Försenade uppföljningar
desk-assign-for = Ansvarig för { $household }
desk-assign-failed = Kunde inte tilldelas: { $error }
desk-unassigned = Utan ansvarig
desk-households = Öppna ärenden
desk-visits-booked = Besök bokade i månaden
desk-visits-done = Genomförda
desk-visits-unrecorded = Passerade utan dokumentation
desk-visits-not-done = Inte genomförda
desk-visits-chart = Besök i månaden per person
desk-workload = Arbetsbelastning
desk-month = Månaden { $from }–{ $to }
desk-plans = Planernas framsteg
desk-as-of = Som planerna såg ut den
desk-date-future = Välj ett datum som har varit.
desk-date-invalid = ”{ $value }” är inget datum.
desk-goals = Mål totalt
desk-plans-as-of = Öppna ärenden och deras mål per stadsdel den { $date }.
desk-plans-chart = Mål per status och stadsdel
desk-report = Tertialrapport
desk-tertial-label = Tertial
desk-tertial = { $name } ({ $from }–{ $to })
desk-all-districts = Alla stadsdelar
desk-print = Skriv ut
desk-report-basis = Hushållen som de var vid periodens slut ({ $from }–{ $to }); { $households } hushåll fanns då.
desk-people-supported = Personer som fått stöd
desk-goals-reached = Uppnådda mål
desk-amount-invalid = ”{ $value }” är inget belopp i kronor.
cost-share-title = Kostnadsfördelning mellan stadsdelarna
cost-share-explained = I proportion till varje stadsdels folkbokförda nyanlända 18–64 år med uppehållstillstånd under perioden. Förvalt är de tolv månaderna fram till tertialets slut.
cost-share-from = Från
cost-share-to = Till
cost-share-amount = Kostnad att fördela (kr)
cost-share-chart = Nyanlända 18–64 år per stadsdel
cost-share-period-invalid = Perioden slutar innan den börjar.
cost-share-no-districts = Det finns inga stadsdelar att fördela kostnaden mellan.
cost-share-no-newcomers = Ingen av stadsdelarna har folkbokförda nyanlända 18–64 år under perioden, så kostnaden kan inte fördelas efter dem.
cost-share-too-many = Antalet nyanlända är orimligt stort.
cost-share-duplicate = Stadsdelen { $district } finns med två gånger.
desk-log = Åtkomstlogg
desk-log-loading = Hämtar loggen…
desk-log-failed = Loggen kunde inte hämtas: { $error }
desk-log-when = När
desk-log-who = Vem
desk-log-device = Enhet
desk-log-action = Händelse
desk-log-detail = Detalj
desk-log-from = Från
desk-log-to = Till
desk-log-intact = Loggens kedja är obruten.
desk-log-broken = Loggen har ändrats i efterhand vid rad { $row }.
desk-log-count = Visar { $shown } av { $fetched } hämtade rader.
desk-any-person = Alla
desk-any-household = Alla hushåll
desk-any-action = Alla händelser
log-action-open = Öppnade
log-action-change = Ändrade
log-action-refused = Nekades
log-action-sign-in = Loggade in
log-action-sign-in-failed = Misslyckad inloggning
log-action-sign-out = Loggade ut
log-action-user-created = Skapade användare
log-action-user-disabled = Stängde av användare
log-action-user-enabled = Öppnade användare igen
log-action-device-revoked = Spärrade enhet
log-action-district-created = Skapade stadsdel
log-action-district-renamed = Döpte om stadsdel

report-total = Totalt
report-language-none = Språk ej angivet
report-table-cases = Ärenden
report-table-visits = Besök
report-table-interpreters = Tolk per språk
report-table-topics = Ämnen
report-table-goals_reached = Uppnådda mål
report-table-cost_share = Kostnadsfördelning
report-column-case_figure = Ärenden
report-column-visit_status = Besök
report-column-language = Språk
report-column-topic = Ämne
report-column-goal_area = Område
report-column-district = Stadsdel
report-column-households = Hushåll
report-column-visits = Besök
report-column-in_person = På plats
report-column-phone = Telefon
report-column-minutes = Minuter
report-column-visits_without_minutes = Besök utan angiven längd
report-column-goals = Mål
report-column-people = Personer
report-column-newcomers = Nyanlända 18–64
report-column-share_numerator = Andel, täljare
report-column-share_denominator = Andel, nämnare
report-column-per_mille = Promille
report-column-amount_ore = Belopp (öre)
report-case-supported = Hushåll som fått stöd
report-case-new = Nya ärenden
report-case-closed = Avslutade ärenden
report-case-closed_work = Avslutade: arbete
report-case-closed_studies = Avslutade: studier
report-case-closed_moved = Avslutade: flyttat
report-case-closed_other = Avslutade: annat
report-case-closed_not_recorded = Avslutade: anledning ej angiven
household-read-only = Visas för läsning.
household-edit = Redigera
language-name-ar = arabiska
language-name-fa = persiska
language-name-prs = dari
language-name-so = somaliska
language-name-ti = tigrinja
language-name-uk = ukrainska
language-name-en = engelska
language-name-sv = svenska
cost-share-amount-of = { $district }: { $amount } ({ $per_mille } ‰)

## Refused changes (the server's quarantine) and households that cannot be read
status-held-back = { $count ->
    [one] 1 hushåll hålls tillbaka
   *[other] { $count } hushåll hålls tillbaka
}
status-unreadable = { $count ->
    [one] 1 hushåll kan inte läsas
   *[other] { $count } hushåll kan inte läsas
}
status-quarantine-full = Synkningen väntar på en arbetsledare
refused-notices = Ändringar som servern nekade
refused-notice = Servern tog inte emot en ändring i { $household }: { $reason }. Det du skrev finns kvar på telefonen.
refused-waiting = En arbetsledare går igenom ändringen. Till dess synkas inte det här hushållet från telefonen; allt annat synkas som vanligt.
refused-rejected = En arbetsledare har avvisat din ändring i { $household } ({ $reason }). Den kommer aldrig till servern.
refused-rejected-next = Det du skrev finns kvar på telefonen. Hushållet fortsätter från serverns version så snart telefonen hunnit göra det; det servern inte tog emot sparas så att du kan läsa och kopiera det.
refused-open = Visa hushållet
refused-reason-signer = den var signerad av någon annan eller på en annan enhet
refused-reason-unsigned = den var inte signerad
refused-reason-actor = den var skriven under ett författar-id som hör till en annan enhet
refused-reason-clock = den signerades med en klocka som gick för långt före serverns – kontrollera datum och tid i telefonen
refused-reason-too-large = den var större än någon ändring appen gör
refused-reason-deletes = den tog bort registrerade uppgifter, som bara får rättas eller avslutas
refused-reason-replaces = den ersatte en del av hushållet som innehåller registrerade uppgifter
refused-reason-shape = den passade inte hushållets uppgifter
refused-reason-role = den gjorde något som din roll inte tillåter
refused-reason-held = den nekades tidigare och väntar på en arbetsledares beslut
refused-reason-depends = den bygger på en annan ändring som nekades
refused-reason-damaged = den var skadad
refused-reason-unknown = av ett skäl som den här versionen av appen inte känner till ({ $code })
quarantine-full-notice = { $count ->
    [one] Servern tar inte emot något från telefonen förrän en arbetsledare har gått igenom 1 ändring som den nekade. Allt du skriver sparas på telefonen och synkas sedan.
   *[other] Servern tar inte emot något från telefonen förrän en arbetsledare har gått igenom { $count } ändringar som den nekade. Allt du skriver sparas på telefonen och synkas sedan.
}
households-held-back = Synkas inte: en ändring nekades
households-held-back-rejected = Synkas inte: en ändring avvisades
households-unreadable = Kan inte läsas
households-unreadable-device = På telefonen: { $reason }
households-unreadable-server = På servern: { $reason }
households-server-unreadable = Servern kan inte läsa hushållet: { $reason }
household-unnamed = Hushåll { $id }
household-unreadable = Hushållet kan inte läsas: { $reason }
desk-unreadable-here = På den här datorn: { $reason }
nav-quarantine = Karantän
desk-quarantine = Nekade ändringar
desk-quarantine-explained = Ändringar som servern inte tog emot från en telefon eller dator. De finns inte i hushållet. Godta en ändring som nekades felaktigt, så förs den in och synkas; avvisa den annars, så förs den aldrig in.
desk-quarantine-loading = Hämtar nekade ändringar…
desk-quarantine-failed = De nekade ändringarna kunde inte hämtas: { $error }
desk-quarantine-none = Inga nekade ändringar.
desk-quarantine-count = { $pending } väntar på beslut av { $total } totalt.
desk-quarantine-any-status = Alla
desk-quarantine-refresh = Hämta igen
desk-quarantine-signed = Signerad
desk-quarantine-received = Mottagen
desk-quarantine-reason = Skäl
desk-quarantine-status = Status
desk-quarantine-no-household = Inget hushåll (meddelandet lästes aldrig)
desk-quarantine-unread = Ett meddelande på { $megabytes } MB, över gränsen: det lästes inte och inget av det sparades, så det kan bara avvisas.
desk-quarantine-no-time = okänt
desk-quarantine-decided-by = { $who }, { $when }
desk-quarantine-accept = Godta
desk-quarantine-reject = Avvisa
desk-quarantine-accept-label = Godta ändringen från { $who } i { $household }
desk-quarantine-reject-label = Avvisa ändringen från { $who } i { $household }
desk-quarantine-accepted = { $count ->
    [one] Godtog 1 ändring i { $household }. Den förs in i hushållet och synkas.
   *[other] Godtog { $count } ändringar i { $household }. De förs in i hushållet och synkas.
}
desk-quarantine-rejected = { $count ->
    [one] Avvisade 1 ändring i { $household }. Den förs aldrig in i hushållet.
   *[other] Avvisade { $count } ändringar i { $household }. De förs aldrig in i hushållet.
}
desk-quarantine-decide-failed = Beslutet kunde inte sparas: { $error }
quarantine-status-pending = Väntar
quarantine-status-accepted = Godtagen
quarantine-status-rejected = Avvisad
log-action-read = Visade
log-action-caseload-listed = Hämtade ärendelista
log-action-log-read = Läste loggen
log-action-log-reviewed = Granskade loggen
log-action-user-access-changed = Ändrade behörighet
log-action-export = Exporterade
log-flag-after-hours = Utanför arbetstid
log-flag-many-households = Många hushåll på kort tid
log-flag-export = Export
desk-log-flags = Att granska
desk-log-flagged-only = Bara rader att granska
desk-log-review = Granskning
desk-log-review-help = Välj period (Från och Till) och skriv vad du har sett; granskningen sparas med ditt namn och loggas.
desk-log-review-comment = Kommentar
desk-log-review-district = Stadsdel
desk-log-review-all = Alla mina stadsdelar
desk-log-review-save = Markera perioden som granskad
desk-log-review-saved = Perioden är markerad som granskad.
desk-log-review-failed = Granskningen kunde inte sparas: { $error }
desk-log-review-needs-period = Välj både Från och Till först.
desk-log-reviews = Tidigare granskningar
desk-log-reviews-none = Inga granskningar ännu.
desk-log-review-period = Period
desk-log-review-by = Granskad av
log-action-quarantine-accepted = Godtog nekad ändring
log-action-quarantine-rejected = Avvisade nekad ändring
log-action-household-removed = Tog bort hushåll
log-action-report-filed = Lämnade in tertialrapport
log-action-person-copy-made = Tog fram registerutdrag
log-action-person-copy-released = Lämnade ut registerutdrag

## Filed tertial reports
filed-title = Inlämnade rapporter
filed-none = Rapporten för den här tertialen och stadsdelen är inte inlämnad.
filed-entry = Inlämnad { $when } av { $by }.
filed-show = Visa som inlämnad
filed-show-live = Visa dagens siffror
filed-file = Lämna in rapporten för { $tertial }
filed-file-again = Lämna in rapporten för { $tertial } igen (en rättelse; den förra finns kvar)
filed-explained = Servern räknar rapporten ur hushållen som de var vid tertialens slut och sparar den som inlämnad: bara summor, ingen person. Den ändras inte när hushåll gallras eller tas bort senare.
filed-not-over = Rapporten kan lämnas in när tertialen är slut ({ $date }).
filed-not-every-district = Rapporten för alla stadsdelar lämnas in av en arbetsledare för alla stadsdelar. Lämna in dina stadsdelars rapporter var för sig.
filed-basis = Rapporten som den lämnades in { $when } av { $by }, över de { $households } hushåll som hörde till den vid tertialens slut.
filed-failed = Rapporten kunde inte lämnas in: { $error }
filed-load-failed = Inlämnade rapporter kunde inte hämtas: { $error }

## A person's own copy (GDPR art. 15)
copy-section = Registerutdrag
copy-section-help = Allt Lots har om en person, att granska och lämna ut (GDPR artikel 15). Att ta fram och lämna ut utdraget loggas.
copy-for = Registerutdrag för { $name }
copy-back = Tillbaka till hushållet
copy-loading = Tar fram utdraget …
copy-failed = Utdraget kunde inte tas fram: { $error }
copy-title = Registerutdrag för { $name } – granskning
copy-title-released = Registerutdrag för { $name }
copy-made = Hushåll { $household }. Framtaget av { $by } { $when }.
copy-review-help = Läs varje uppgift. Markera det som inte får lämnas ut på grund av sekretess (till exempel uppgifter om någon annan i en anteckning). Utdraget visar sedan att uppgiften finns men inte vad den säger.
copy-withhold = Lämna inte ut (sekretess)
copy-withheld-count = Uppgifter som inte lämnas ut: { $count }
copy-release = Lämna ut utdraget
copy-make-again = Ta fram utdraget igen
copy-release-failed = Utdraget kunde inte lämnas ut: { $error }
copy-released = Utdraget lämnades ut { $when }. Uppgifter som inte lämnas ut: { $withheld }.
copy-save-json = Spara som JSON
copy-withheld = Uppgiften lämnas inte ut (sekretess enligt offentlighets- och sekretesslagen).
copy-written-by = Skrivet av:
copy-unsigned = okänd (ej signerad)
copy-not-recorded = –
copy-yes = Ja
copy-no = Nej
copy-owner-this_person = Personen själv
copy-owner-another_member = En annan person i hushållet
copy-kind-household = Hushållet
copy-kind-member = Personuppgifter
copy-kind-visit = Besök
copy-kind-visit_notes = Anteckningar från besöket
copy-kind-follow_up = Uppföljning från besöket
copy-kind-goal = Mål i planen
copy-kind-step = Steg mot ett mål
copy-kind-plan_notes = Anteckningar om hushållets plan
kept-title = Det du skrev som servern inte tog emot
kept-explained = En arbetsledare avvisade en ändring du gjorde ({ $reason }). Hushållet fortsätter därför från serverns version sedan { $date }. Här nedan finns det du skrev som inte kom med. Markera eller kopiera det du behöver; det finns kvar på telefonen tills du tar bort det.
kept-replayed = { $count ->
    [one] 1 sak du gjorde efter den avvisade ändringen fördes in igen och synkas som vanligt.
   *[other] { $count } saker du gjorde efter den avvisade ändringen fördes in igen och synkas som vanligt.
}
kept-notice = En arbetsledare avvisade din ändring i { $household } ({ $reason }). Hushållet synkas igen från serverns version. Det du skrev som servern inte tog emot finns kvar på hushållets sida.
kept-open = Visa det du skrev
kept-copy = Kopiera
kept-copied = Kopierat
kept-copy-failed = Kunde inte kopiera – markera texten och kopiera den själv.
kept-minutes = { $minutes } min
kept-on = Datum { $date }
kept-written = Skrivet { $time }
kept-action = Åtgärd: { $action }
kept-dismiss = Jag har det jag behöver – ta bort
kept-dismiss-warning = Texten ovan försvinner från telefonen för gott. Den finns inte på servern.
kept-dismiss-confirm = Ta bort för gott
kept-dismiss-cancel = Avbryt
kept-what-address = Adress
kept-what-member = Person
kept-what-visit-planned = Bokat besök
kept-what-visit-recorded = Besök
kept-what-visit-cancelled = Inställt besök
kept-what-visit-no-show = Besök där ingen kom
kept-what-visit-notes = Besöksanteckning
kept-what-plan-notes = Anteckningar i planen
kept-what-follow-up = Uppföljning
kept-what-follow-up-done = Uppföljning klar
kept-what-goal = Mål
kept-what-goal-status = Målets läge
kept-what-step = Steg
kept-what-step-status = Stegets läge
kept-what-case-closed = Ärendet avslutat
kept-what-case-reopened = Ärendet öppnat igen
kept-what-other = Annan ändring
signout-reads = { $count ->
    [one] 1 visning av ett hushåll har inte nått serverns logg än. Anslut, så skickas den, och logga ut sedan.
   *[other] { $count } visningar av hushåll har inte nått serverns logg än. Anslut, så skickas de, och logga ut sedan.
}
signout-kept = { $count ->
    [one] Det finns text som servern inte tog emot i 1 hushåll. Kopiera det du behöver och ta bort den på hushållets sida innan du loggar ut.
   *[other] Det finns text som servern inte tog emot i { $count } hushåll. Kopiera det du behöver och ta bort den på hushållens sidor innan du loggar ut.
}

## Nytt lösenord efter ett tillfälligt
password-title = Välj ett nytt lösenord
password-why = { $name }, du loggade in med ett tillfälligt lösenord. Välj ett eget lösenord innan du fortsätter; det tillfälliga slutar gälla.
password-current = Tillfälligt lösenord
password-current-wrong = Det tillfälliga lösenordet stämmer inte. Skriv det precis som du fick det.
password-new = Nytt lösenord
password-hint = Minst { $count } tecken. Några ord du kommer ihåg går bra.
password-repeat = Nytt lösenord igen
password-submit = Spara nytt lösenord
password-mismatch = De två nya lösenorden är inte likadana.
password-same = Det nya lösenordet måste skilja sig från det tillfälliga.

## Administratörens konsol
role-staff = Boendestödjare
role-supervisor = Arbetsledare
role-admin = Administratör
admin-title = Lots – administration
admin-nav-users = Användare
admin-nav-districts = Stadsdelar
admin-nav-devices = Enheter
admin-nav-caseloads = Ärendefördelning
admin-loading = Hämtar…
admin-none = Inga
admin-save = Spara
admin-cancel = Avbryt
admin-column-name = Namn
admin-column-username = Användarnamn
admin-column-role = Roll
admin-column-districts = Stadsdelar
admin-column-status = Status
admin-column-actions = Åtgärder
admin-column-person = Person
admin-column-device = Enhet
admin-column-first-seen = Först inloggad
admin-column-last-seen = Senast sedd
admin-column-district-id = Id i journalerna
admin-users-title = Användare
admin-users-intro = Alla som får logga in i Lots. Varje ändring loggas med ditt namn.
admin-users-count = { $count ->
    [one] 1 användare
   *[other] { $count } användare
}
admin-user-new = Ny användare
admin-user-create = Skapa användare
admin-user-created = { $name } har skapats. Lämna över det första lösenordet på ett säkert sätt.
admin-user-edit = Ändra
admin-user-edit-title = Ändra { $name }
admin-user-own = Det här är du: en annan administratör ändrar din roll och dina stadsdelar.
admin-user-role-audited = En ändrad roll loggas och visas för arbetsledarna i de berörda stadsdelarna.
admin-user-saved = { $name } har sparats.
admin-user-unchanged = Inget ändrades för { $name }.
admin-user-reset = Återställ lösenord
admin-user-disable = Stäng av
admin-user-enable = Aktivera
admin-user-disabled = { $name } är avstängd och utloggad överallt.
admin-user-enabled = { $name } kan logga in igen.
admin-user-status-active = Aktiv
admin-user-status-disabled = Avstängd
admin-username-hint = Bokstäver, siffror, "." eller "-". Kan inte ändras senare.
admin-initial-password = Första lösenord
admin-initial-password-suggest = Föreslå ett lösenord
admin-initial-password-hint = Minst 12 tecken. Lämna över det personligen eller per telefon, aldrig via e-post.
admin-reset-title = Återställa lösenordet för { $name }?
admin-reset-explain = Ett tillfälligt lösenord skapas och visas för dig en gång. Det nuvarande lösenordet slutar gälla, och personen måste välja ett nytt vid nästa inloggning.
admin-reset-confirm = Skapa tillfälligt lösenord
admin-temporary-title = Tillfälligt lösenord för { $name }
admin-temporary-once = Det visas bara nu. Ingen, inte heller du, kan se det igen.
admin-temporary-hand-over = Lämna över det säkert: personligen eller per telefon till personen själv, aldrig via e-post eller sms.
admin-temporary-change = { $name } måste välja ett nytt lösenord vid nästa inloggning.
admin-temporary-done = Jag har lämnat över det – dölj det
admin-districts-title = Stadsdelar
admin-districts-intro = Stadsdelarna som hushåll och personal hör till. Ett nytt namn behåller id:t som journalerna använder.
admin-districts-count = { $count ->
    [one] 1 stadsdel
   *[other] { $count } stadsdelar
}
admin-districts-none = Det finns inga stadsdelar än.
admin-district-new = Ny stadsdel
admin-district-create = Skapa stadsdel
admin-district-created = Stadsdelen { $name } har skapats.
admin-district-id-hint = Id:t görs av namnet.
admin-district-id-will-be = Id:t blir { $id }.
admin-district-rename = Byt namn
admin-district-new-name = Nytt namn för { $name }
admin-district-renamed = Stadsdelen heter nu { $name }.
admin-devices-title = Enheter
admin-devices-intro = Alla enheter som någon har loggat in på. Spärra en borttappad eller stulen telefon: den loggas ut direkt och kan inte synka mer.
admin-devices-count = { $count ->
    [one] 1 enhet
   *[other] { $count } enheter
}
admin-devices-filter = Sök person
admin-device-in-use = I bruk
admin-device-revoked-at = Spärrad { $time }
admin-device-revoke = Spärra
admin-device-of = : { $device } som tillhör { $name }
admin-device-confirm = Spärra { $device } som tillhör { $name }? Den loggas ut direkt och kan inte synka igen. { $name } loggar in på nytt på en annan enhet.
admin-device-revoke-confirm = Ja, spärra enheten
admin-device-revoked = { $device } som tillhör { $name } är spärrad.
admin-device-browser-on = { $browser } på { $system }
admin-caseloads-title = Ärendefördelning
admin-caseloads-intro = Hur många hushåll varje person har i varje stadsdel, och hur många som ingen har. Bara antal: administratörer ser inga hushåll.
admin-caseloads-caption = Hushåll per person och stadsdel
admin-caseloads-unassigned = Ingen (ej tilldelade)
admin-caseloads-total = Totalt
admin-error-offline = Servern går inte att nå. Kontrollera anslutningen och försök igen.
admin-error-signed-out = Du är inte längre inloggad. Logga ut och logga in igen.
admin-error-password-change-required = Välj ett nytt lösenord först.
admin-error-other = Servern vägrade: { $error }
admin-error-username-taken = Användarnamnet är upptaget. Välj ett annat.
admin-error-username-invalid = Ett användarnamn är 1–64 bokstäver, siffror, "." eller "-".
admin-error-weak-password = Lösenordet är för kort: det behöver minst { $count } tecken.
admin-error-own-account = Du kan inte ändra din egen roll eller dina stadsdelar, eller stänga av dig själv: det kan en annan administratör.
admin-error-wrong-password = Det nuvarande lösenordet stämmer inte.
admin-error-forbidden = Bara en administratör får göra det.
admin-error-district-exists = Det finns redan en stadsdel med det id:t. Välj ett annat namn.
admin-error-unknown-district = En av de valda stadsdelarna finns inte längre. Ladda om och försök igen.
admin-error-display-name = Skriv personens namn.
admin-error-district-name = Skriv stadsdelens namn (högst 100 tecken).
admin-error-district-id = Namnet ger inget användbart id: använd bokstäver eller siffror.
admin-error-not-found = Det finns inte längre. Ladda om sidan.
admin-error-no-district = Välj minst en stadsdel för boendestödjare och arbetsledare.
admin-caseloads-no-district = Ingen stadsdel
admin-error-own-password = Ditt eget lösenord återställs av en annan administratör.
admin-error-nothing-to-change = Inget ändrades.
admin-device-this = Den här enheten

admin-nav-retention = Gallring
admin-retention-title = Gallring
admin-retention-intro = Hushållens akter gallras när tiden efter den sista anteckningen har gått ut (socialtjänstlagen). Lista först vad som ska gallras och granska listan; gallra sedan med beslutets diarienummer. Listningen och gallringen loggas. Telefoner och datorer raderar sina kopior nästa gång de har kontakt med servern.
admin-retention-list = Lista vad som ska gallras
admin-retention-rule = Regel: gallras { $years } år efter sista anteckningen (serverns tid). I dag: { $today }.
admin-retention-rule-keeping = Regel: gallras { $years } år efter sista anteckningen (serverns tid); hushåll med någon född den 5:e, 15:e eller 25:e sparas för forskning. I dag: { $today }.
admin-retention-due = { $count ->
    [0] Inga hushåll att gallra
    [one] Ett hushåll att gallra
   *[other] { $count } hushåll att gallra
}
admin-retention-kept = { $count ->
    [one] Ett hushåll sparas trots åldern
   *[other] { $count } hushåll sparas trots åldern
}
admin-retention-run-title = { $count ->
    [one] Gallra hushållet
   *[other] Gallra de { $count } hushållen
}
admin-retention-run-intro = Exakt de listade hushållen tas bort, med alla besök, anteckningar och planer. Det går inte att ångra.
admin-retention-run = { $count ->
    [one] Gallra ett hushåll
   *[other] Gallra { $count } hushåll
}
admin-retention-done = { $count ->
    [one] Ett hushåll gallrades.
   *[other] { $count } hushåll gallrades.
}
admin-retention-decision-missing = Skriv beslutets diarienummer.
admin-retention-verdict-due = Gallras
admin-retention-verdict-research = Sparas: någon född den 5:e, 15:e eller 25:e
admin-retention-verdict-unreadable = Sparas: medlemmarna går inte att läsa, avgör för hand
admin-decision = Beslut (diarienummer)
admin-column-household = Hushåll (id)
admin-column-district = Stadsdel
admin-column-last-entry = Sista anteckning
admin-column-due-on = Kan gallras från
admin-column-verdict = Bedömning
admin-remove-title = Ta bort ett hushåll efter beslut
admin-remove-intro = För ett hushåll som registrerats av misstag. Arbetsledaren ser hushållets id under Hushåll på skrivbordet. Hushållet tas bort med allt innehåll, och det går inte att ångra.
admin-remove-household = Hushållets id
admin-remove-reason = Skäl
admin-remove-button = Ta bort hushållet
admin-remove-done = Hushållet { $household } är borttaget.
admin-remove-fields-missing = Fyll i hushållets id, beslutet och skälet.
admin-error-not-due = Ett av hushållen ska inte längre gallras. Lista igen och gallra det som listan visar.
admin-error-decision = Skriv beslutets diarienummer (högst 200 tecken).
admin-error-reason = Skriv skälet (högst 1 000 tecken).
admin-error-no-household = Det finns inget hushåll med det id:t, eller så är det redan borttaget.
household-id = Hushållets id:

## The lock
unlock-title = Lots är låst
unlock-why = Det som Lots sparar på enheten är krypterat. Skriv ditt lösenord för att låsa upp.
unlock-secret = Lösenord
unlock-submit = Lås upp
unlock-busy = Låser upp …
unlock-wrong = Fel lösenord.
unlock-left = { $left ->
    [one] Ett försök till, sedan raderas allt som Lots har sparat på enheten.
   *[other] { $left } försök kvar, sedan raderas allt som Lots har sparat på enheten.
}
unlock-wrong-left = Fel lösenord. { $left ->
    [one] Ett försök kvar
   *[other] { $left } försök kvar
}, sedan raderas allt som Lots har sparat på enheten{ $waiting ->
    [0] . Servern har redan allt.
    [one] , också ändringar i ett hushåll som ännu inte nått servern.
   *[other] , också ändringar i { $waiting } hushåll som ännu inte nått servern.
}
unlock-wiped = Tio fel lösenord i rad: allt som Lots hade sparat på enheten är raderat.
unlock-offline-too-long = Enheten har inte haft kontakt med servern på { $days } dagar. Anslut till nätet för att låsa upp.
unlock-no-person = Enheten har en nyckel men ingen inloggad person. Logga ut och in igen.
unlock-forgot = Glömt lösenordet?
unlock-forgot-why = Då kan Lots inte öppna det som är sparat på enheten. Radera det och logga in igen: servern har allt som har synkats.
unlock-forgot-waiting = { $waiting ->
    [one] Ändringar i ett hushåll har ännu inte nått servern och går förlorade.
   *[other] Ändringar i { $waiting } hushåll har ännu inte nått servern och går förlorade.
}
unlock-erase = Radera och logga in igen
passphrase-title = Skydda enheten
passphrase-why = Det som Lots sparar på enheten krypteras med en lösenfras som du väljer. Du skriver den när appen har låsts.
passphrase-new = Lösenfras
passphrase-hint = Minst { $count } tecken, till exempel några ord.
passphrase-repeat = Samma lösenfras igen
passphrase-submit = Skydda och fortsätt
passphrase-too-short = Lösenfrasen behöver minst { $count } tecken.
passphrase-too-simple = Lösenfrasen är för enkel: använd fler olika tecken.
passphrase-differ = Lösenfraserna är inte lika.
wiped-unlocks = Tio fel lösenord i rad: allt som Lots hade sparat på enheten är raderat.
signin-other-person-waiting = Någon annans ändringar väntar på den här enheten på att nå servern. Den personen behöver logga in och synka innan du kan använda enheten.
lock-warning = Lots låses om { $seconds } s eftersom ingen har använt appen på en stund.
lock-keep-working = Fortsätt arbeta
visit-draft-restored = Det du skrev innan appen låstes finns kvar. Spara besöket när det är klart.
admin-lock-title = Låsning av enheter
admin-lock-intro = Appen låses när den inte har använts en stund, och en enhet som inte har haft kontakt med servern på länge måste ha det innan den låses upp. Enheterna följer inställningen från nästa kontakt.
admin-lock-phone = Minuter innan telefonens app låses
admin-lock-desk = Minuter innan skrivbordets app låses
admin-lock-offline = Dagar en enhet får vara utan kontakt med servern
admin-lock-save = Spara låsningen
admin-lock-saved = Låsningen är sparad. Enheterna följer den från nästa kontakt.
unlock-add-passkey = Lås upp med enhetens skärmlås (passkey) nästa gång
unlock-with-passkey = Lås upp med passkey
unlock-passkey-failed = Passkey låste inte upp: { $error }. Lösenordet fungerar som vanligt.
