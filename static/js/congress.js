/* "Email your members of Congress" (eventrunner/web/templates/congress.html): the viewer
 * types a ZIP code, picks their district when the ZIP code has several, and gets their
 * senators and representative with contact forms and phone numbers, and the schedule's
 * letter filled in for each of them, to copy or to open in a mail app.
 *
 * Only the ZIP code leaves the browser (GET /api/representatives); the name and city fill
 * the letter here and go nowhere, and nothing is stored. What the viewer types and what
 * the answer holds reach the page as text only. ES2020, no modules: OBS 28 embeds
 * Chromium 103. Uses ER (showclient.js) and its ER.t / ER.nt (i18n.js). */
(function () {
  'use strict';
  var ER = window.ER;
  var API = '/api/representatives?zip=';
  var RETRIES = 3;   // after a 429: a watch party behind one address looks up all at once
  var FALLBACK_CONTACT = {
    senate: 'https://www.senate.gov/senators/senators-contact.htm',
    house: 'https://www.house.gov/representatives/find-your-representative'
  };
  // "Representative/Senator [Name]": a choice of titles written with slashes right before
  // the placeholder becomes the member's own title, in any language the letter is in.
  var SLASHED_TITLES = /[^\s\/\[\]]+(?:\/[^\s\/\[\]]+)+\s+\[Name\]/gi;
  var NAME = /\[Name\]/gi;
  var CITY = /\[(?:CITY\/TOWN|Your City)\]/gi;
  var YOUR_NAME = /\[Your Name\]/gi;

  function field(name, root) { return root.querySelector('[data-field="' + name + '"]'); }

  /* "20001", "20001-1234" or " 20001 " -> "20001"; else null. The +4 stays here. */
  function zipOf(text) {
    var match = /^\s*([0-9]{5})(?:[\s-]?[0-9]{4})?\s*$/.exec(text);
    return match ? match[1] : null;
  }

  function roleTitle(role) {
    if (role === 'senator') return ER.t('Senator');
    if (role === 'delegate') return ER.t('Delegate');
    if (role === 'resident_commissioner') return ER.t('Resident Commissioner');
    return ER.t('Representative');
  }

  function partyName(party) {
    if (party === 'Democrat') return ER.t('Democrat');
    if (party === 'Republican') return ER.t('Republican');
    if (party === 'Independent') return ER.t('Independent');
    return party;
  }

  function districtLabel(district) {
    if (district.at_large) return ER.t('{state}, at large', { state: district.state_name });
    return ER.t('{state}, district {number}', { state: district.state_name, number: district.number });
  }

  function noteText(note) {
    if (note.code === 'no_senators') {
      return note.state === 'PR'
        ? ER.t('{state} has no senators and a non-voting resident commissioner in the House.', { state: note.state_name })
        : ER.t('{state} has no senators and a non-voting delegate in the House.', { state: note.state_name });
    }
    if (note.code === 'vacant') return ER.t('The House seat for {district} is vacant.', { district: note.district });
    if (note.code === 'several_districts' || note.code === 'unknown_zip') return '';   // said elsewhere
    return note.text || '';   // a note this script does not know yet: the server's English
  }

  function unknownText(answer) {
    var text = ER.t('ZIP code {zip} was not found: ZIP codes that only serve PO boxes or a single organization are not in the Census data.', { zip: answer.zip });
    if (!answer.state) return text + ' ' + ER.t('Try the ZIP code of your home address.');
    text += ' ' + ER.t('ZIP codes starting with {prefix} are in {state}.', { prefix: answer.zip.slice(0, 3), state: answer.state_name });
    if (!answer.districts.length) text += ' ' + ER.t('For your representative, try the ZIP code of your home address.');
    return text;
  }

  /* "202-224-3441" -> "tel:+12022243441". */
  function telHref(phone) {
    var digits = String(phone).replace(/[^0-9]/g, '');
    if (digits.length === 10) return 'tel:+1' + digits;
    return digits.length === 11 && digits.charAt(0) === '1' ? 'tel:+' + digits : null;
  }

  /* The letter for one member: every replacement is a function, so a "$&" typed in a
   * name is text, not a pattern. A placeholder with nothing to fill it stays visible. */
  function fill(text, member, you) {
    var title = roleTitle(member.role);
    text = text.replace(SLASHED_TITLES, function () { return title + ' ' + member.name; })
      .replace(NAME, function () { return member.name; });
    if (you.city) text = text.replace(CITY, function () { return you.city; });
    if (you.name) text = text.replace(YOUR_NAME, function () { return you.name; });
    return text;
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /* Resolves (never rejects) to {status, answer}; status 0 when the server is not reached.
   * No cookies and no referrer go with it; a 429 is waited out, jittered, a few times. */
  function lookUp(zip, onWait, attempt) {
    return fetch(API + zip, {
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      headers: { Accept: 'application/json' }
    }).then(function (response) {
      if (response.status === 429 && attempt < RETRIES) {
        var seconds = Math.max(1, Number(response.headers.get('Retry-After')) || 2);
        onWait(seconds);
        return wait((seconds + Math.random() * seconds) * 1000).then(function () {
          return lookUp(zip, onWait, attempt + 1);
        });
      }
      return response.json().then(function (answer) {
        return { status: response.status, answer: answer };
      }, function () { return { status: response.status, answer: {} }; });
    }, function () { return { status: 0, answer: {} }; });
  }

  function setup(panel) {
    var form = field('congress-form', panel);
    var zipInput = field('congress-zip', panel);
    var nameInput = field('congress-name', panel);
    var cityInput = field('congress-city', panel);
    var zipError = field('congress-zip-error', panel);
    var status = field('congress-status', panel);
    var results = field('congress-results', panel);
    var notes = field('congress-notes', panel);
    var districtBox = field('congress-districts', panel);
    var districtChoices = field('congress-district-choices', panel);
    var members = field('congress-members', panel);
    var asOf = field('congress-as-of', panel);
    var letterBox = field('congress-letter-box', panel);
    var recipientChoices = field('congress-recipient-choices', panel);
    var subjectEl = field('congress-subject', panel);
    var letterEl = field('congress-letter', panel);
    var copyButton = field('congress-copy', panel);
    var mailto = field('congress-mailto', panel);
    var copied = field('congress-copied', panel);
    var subjectTemplate = subjectEl.textContent;
    var letterTemplate = letterEl.textContent;
    var answers = {};   // ZIP code -> {status, answer}, for this page view only
    var current = null;   // the answer on show
    var district = null;   // the picked district's id
    var recipient = null;   // the bioguide id the letter is addressed to
    var pending = null;   // the ZIP code being looked up

    field('congress-nojs', panel).hidden = true;
    form.hidden = false;

    function showError(text) {
      ER.setText(zipError, text);
      zipInput.setAttribute('aria-invalid', text ? 'true' : 'false');
    }

    function districtById(id) {
      return current.districts.filter(function (d) { return d.id === id; })[0] || null;
    }

    /* Whose letter and card show: the picked (or only) district's representative and its
     * state's senators; before a pick, the senators when every district is in one state. */
    function shownMembers() {
      var picked = district ? districtById(district) : current.districts.length === 1 ? current.districts[0] : null;
      var states = current.districts.map(function (d) { return d.state; });
      if (!states.length && current.state) states = [current.state];
      var state = picked ? picked.state : states.every(function (s) { return s === states[0]; }) ? states[0] : null;
      var senators = current.senators.filter(function (m) { return m.state === state; });
      var house = picked ? current.representatives.filter(function (m) { return m.district === picked.id; }) : [];
      return senators.concat(house);
    }

    function contactLink(member) {
      var href = ER.safeUrl(member.contact_form) || ER.safeUrl(member.url) || FALLBACK_CONTACT[member.chamber];
      var label = member.contact_form ? ER.t('Contact form') : member.url ? ER.t('Website') : ER.t('Contact details');
      return ER.h('a', { class: 'button button-primary', href: href, target: '_blank', rel: 'noopener noreferrer' }, [
        label, ER.h('span', { class: 'visually-hidden', text: ' ' + ER.t('of {name}', { name: member.name }) })
      ]);
    }

    function card(member) {
      var where = member.district ? districtLabel(districtById(member.district) || {
        state_name: member.state_name, number: Number(member.district.slice(3)), at_large: member.district.slice(3) === '00'
      }) : member.state_name;
      var tel = member.phone ? telHref(member.phone) : null;
      return ER.h('li', { class: 'congress-member' }, [
        ER.h('h5', { text: roleTitle(member.role) + ' ' + member.name }),
        ER.h('p', { class: 'congress-meta', text: [partyName(member.party), where].filter(Boolean).join(' · ') }),
        ER.h('p', { class: 'congress-contact' }, [
          contactLink(member),
          tel ? ER.h('a', { class: 'button', href: tel }, [
            ER.t('Call {phone}', { phone: member.phone }),
            ER.h('span', { class: 'visually-hidden', text: ' ' + ER.t('of {name}', { name: member.name }) })
          ]) : null
        ]),
        member.address ? ER.h('p', { class: 'congress-office', text: ER.t('Office: {address}', { address: member.address }) }) : null
      ]);
    }

    function radio(group, value, label, checked, onPick) {
      var id = panel.id + '-' + group + '-' + value;
      var input = ER.h('input', { type: 'radio', name: panel.id + '-' + group, id: id, value: value });
      input.checked = checked;
      input.addEventListener('change', function () { if (input.checked) onPick(value); });
      return ER.h('p', { class: 'congress-choice' }, [input, ER.h('label', { for: id, text: label })]);
    }

    function renderDistricts() {
      districtChoices.textContent = '';
      districtBox.hidden = current.districts.length < 2;
      if (districtBox.hidden) return;
      current.districts.forEach(function (d) {
        var member = current.representatives.filter(function (m) { return m.district === d.id; })[0];
        var who = member ? roleTitle(member.role) + ' ' + member.name : ER.t('seat vacant');
        districtChoices.appendChild(radio('district', d.id, districtLabel(d) + ' (' + who + ')', d.id === district, function (id) {
          district = id;
          renderMembers();
          var shown = shownMembers();
          ER.setText(status, ER.nt('{district}: {n} member of Congress below.', '{district}: {n} members of Congress below.',
            shown.length, { district: districtLabel(districtById(id)), n: shown.length }));
        }));
      });
    }

    /* Cards and letter; the recipients' radios are rebuilt only when whom they list changes. */
    function renderMembers() {
      var shown = shownMembers();
      members.textContent = '';
      shown.forEach(function (member) { members.appendChild(card(member)); });
      if (!shown.some(function (m) { return m.bioguide === recipient; })) recipient = shown.length ? shown[0].bioguide : null;
      recipientChoices.textContent = '';
      shown.forEach(function (member) {
        recipientChoices.appendChild(radio('to', member.bioguide, roleTitle(member.role) + ' ' + member.name,
          member.bioguide === recipient, function (bioguide) { recipient = bioguide; renderLetter(); }));
      });
      letterBox.hidden = !shown.length;
      renderLetter();
    }

    function renderLetter() {
      var member = current && current.senators.concat(current.representatives).filter(function (m) {
        return m.bioguide === recipient;
      })[0];
      if (!member) return;
      var you = { name: nameInput.value.trim(), city: cityInput.value.trim() };
      var subject = fill(subjectTemplate, member, you);
      var letter = fill(letterTemplate, member, you);
      ER.setText(subjectEl, subject);
      ER.setText(letterEl, letter);
      // RFC 6068: line breaks in a mailto body are CRLF. No "To": members publish no address.
      mailto.setAttribute('href', 'mailto:?subject=' + encodeURIComponent(subject) +
        '&body=' + encodeURIComponent(letter.replace(/\r?\n/g, '\r\n')));
    }

    function show(reply) {
      current = reply.answer;
      district = current.districts.length === 1 ? current.districts[0].id : null;
      notes.textContent = '';
      current.notes.forEach(function (note) {
        var text = noteText(note);
        if (text) notes.appendChild(ER.h('li', { text: text }));
      });
      renderDistricts();
      renderMembers();
      ER.setText(asOf, ER.t('Member data as of {date}.', { date: current.as_of }));
      results.hidden = false;
      var shown = shownMembers().length;
      if (reply.status === 404) {
        showError(unknownText(current));
        ER.setText(status, unknownText(current));
      } else if (current.districts.length > 1 && !district) {
        ER.setText(status, ER.t('ZIP code {zip} is in {n} districts: pick yours below.',
          { zip: current.zip, n: current.districts.length }));
      } else {
        ER.setText(status, ER.nt('ZIP code {zip}: {n} member of Congress below.', 'ZIP code {zip}: {n} members of Congress below.',
          shown, { zip: current.zip, n: shown }));
      }
    }

    function submit() {
      var zip = zipOf(zipInput.value);
      if (!zip) {
        showError(ER.t('Enter your 5-digit ZIP code, such as 20001.'));
        zipInput.focus();
        return;
      }
      showError('');
      if (answers[zip]) { show(answers[zip]); return; }
      if (pending === zip) return;
      pending = zip;
      results.setAttribute('aria-busy', 'true');
      ER.setText(status, ER.t('Looking up ZIP code {zip}…', { zip: zip }));
      lookUp(zip, function (seconds) {
        ER.setText(status, ER.t('Many people are looking up right now: trying again in {n} s…', { n: seconds }));
      }, 0).then(function (reply) {
        if (pending !== zip) return;   // another ZIP code was asked since
        pending = null;
        results.removeAttribute('aria-busy');
        if (reply.status === 200 || (reply.status === 404 && reply.answer.zip === zip)) {
          answers[zip] = reply;
          show(reply);
        } else if (reply.status === 400) {
          showError(ER.t('Enter your 5-digit ZIP code, such as 20001.'));
          ER.setText(status, '');
        } else if (reply.status === 429) {
          ER.setText(status, ER.t('Many people are looking up right now. Try again in a minute.'));
        } else {
          ER.setText(status, ER.t('The lookup did not work. Check your connection and try again.'));
        }
      });
    }

    form.addEventListener('submit', function (event) {
      event.preventDefault();
      submit();
    });
    nameInput.addEventListener('input', renderLetter);
    cityInput.addEventListener('input', renderLetter);
    copyButton.addEventListener('click', function () {
      ER.copyText(letterEl.textContent).then(function (ok) {
        ER.setText(copied, ok ? ER.t('Letter copied. Paste it into the contact form.') : ER.t('Select the letter and copy it by hand.'));
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-congress]'), setup);
})();
