document.getElementById('app')!.textContent = 'setu'
